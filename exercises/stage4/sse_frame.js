/**
 * Exercise 4.4 (15 minutes): one Server-Sent Events frame, safe for any text.
 *
 * server.js pushes to the page with Server-Sent Events: plain text over one long HTTP
 * response, one "frame" per event, read by the browser's EventSource:
 *
 *   event: notice                       <- the event type (addEventListener('notice', ...))
 *   id: 17                              <- optional: the event's id (event.lastEventId)
 *   data: {"type":"sms_offer",...}      <- the payload (event.data); several data: lines are
 *   data: a second line                    joined with "\n"
 *                                       <- a blank line: dispatch the event
 *
 * Each line is "field: value"; the browser removes one space after the colon. And every
 * line break ends a line: "\n", "\r\n" and "\r" alike.
 *
 * To do: sseFrame(event, data, id) returns one frame as a string.
 *   - event: the type; null or undefined: no event: line (the browser calls it 'message');
 *   - data: a string is sent as the text it is, one data: line per line of it (so the page
 *     gets the text back, its line breaks as "\n"); anything else as JSON.stringify(data);
 *   - id: optional (undefined: no id: line);
 *   - a line break in event or id would start a new field: throw an Error instead;
 *   - end the frame with the blank line.
 *
 * Check:        make check-stage4 EX=4.4
 * Try it:       node exercises/stage4/sse_frame.js
 */
'use strict';

function sseFrame(event, data, id) {
  // let frame = ''; ... frame += `data: ${line}\n`; ... return `${frame}\n`;
  throw new Error('not implemented: write the frame');
}

module.exports = { sseFrame };

if (require.main === module) {        // node exercises/stage4/sse_frame.js
  process.stdout.write(sseFrame('notice', { type: 'sms_offer', customer_id: 0 }, 1));
  process.stdout.write(sseFrame(null, 'two\nlines'));
}
