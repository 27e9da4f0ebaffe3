/**
 * Exercise 4.4, worked solution: one Server-Sent Events frame, safe for any text.
 *
 * The event-stream format is lines: "field: value". A frame is some lines and a blank line,
 * which tells the browser to dispatch the event. Every line break is a line end to the
 * browser (\r\n, \n and \r alike), so a line break inside a value would end that field and
 * start another one: data must be cut into lines, and event and id must not hold one.
 */
'use strict';

const LINE_BREAK = /\r\n|\r|\n/;

function sseFrame(event, data, id) {
  let frame = '';
  if (event !== undefined && event !== null) {
    if (LINE_BREAK.test(String(event))) throw new Error(`an event name cannot hold a line break: ${JSON.stringify(event)}`);
    frame += `event: ${event}\n`;
  }
  if (id !== undefined && id !== null) {
    // (the browser also ignores an id holding NUL; not asked here)
    if (LINE_BREAK.test(String(id))) throw new Error(`an event id cannot hold a line break: ${JSON.stringify(id)}`);
    frame += `id: ${id}\n`;
  }
  // A string is sent as text; anything else as JSON (one line: JSON.stringify escapes \n).
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  // One data: line per line. The browser joins them with \n, so "a\r\nb" arrives as "a\nb".
  // The space after the colon: the browser drops exactly one, so "  x" keeps its two spaces.
  for (const line of text.split(LINE_BREAK)) frame += `data: ${line}\n`;
  return `${frame}\n`;                  // the blank line: dispatch
}

// server.js writes `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`: safe, because its
// data are always objects, and JSON has no raw line break. sseFrame is safe for texts too.

module.exports = { sseFrame };

if (require.main === module) {        // node exercises/solutions/stage4/sse_frame.js
  process.stdout.write(sseFrame('notice', { type: 'sms_offer', customer_id: 0 }, 1));
  process.stdout.write(sseFrame(null, 'two\nlines'));
}
