/**
 * Exercise 4.5, worked solution (stretch): no offer twice after a reconnect.
 *
 * The browser's EventSource reconnects by itself, and sends back the id of the last event
 * it received in the Last-Event-ID header. So the server numbers its notices (`id: N`), and a
 * page that reconnects gets only what came after N: nothing twice, nothing lost (as long as
 * the server still keeps it).
 */
'use strict';

function frame(entry) {
  // JSON.stringify never writes a raw line break, so one data: line is enough (see 4.4).
  return `event: notice\nid: ${entry.id}\ndata: ${JSON.stringify(entry.notice)}\n\n`;
}

/** The Last-Event-ID header as a number, or null when absent or not a whole number. */
function lastSeen(header) {
  // Only digits: Number() would also accept '4e1' (40), '40.5' and ' 7 '; a header like
  // that was not written by our server, so it tells us nothing.
  if (typeof header !== 'string' || !/^\d+$/.test(header)) return null;
  return Number(header);
}

function replayFor(recent, lastEventId) {
  const newest = recent.length ? recent[0].id : 0;
  const seen = lastSeen(lastEventId);
  // No usable header: a first visit, replay everything kept. An id above the newest one:
  // the server restarted since and counts from 1 again, so the page's id is from before:
  // replay everything too (the page may show a few old lines twice, it misses none).
  const send = seen === null || seen > newest ? recent : recent.filter((entry) => entry.id > seen);
  // recent is newest first; the page puts each line on top, so send the oldest first.
  // Compare ids as numbers: as texts, '10' < '9'.
  return [...send].reverse().map(frame).join('');
}

// In server.js this would be: relay.recent holding { id, notice } with an id counted up per
// notice, the live push writing `id: N` too, and in GET /events
//   res.write(replayFor(relay.recent, req.get('Last-Event-ID')));
// instead of replaying every notice to every page that (re)connects.

module.exports = { replayFor };

if (require.main === module) {        // node exercises/solutions/stage4/replay.js
  const recent = [3, 2, 1].map((id) => ({ id, notice: { type: 'sms_sent', customer_id: id } }));
  process.stdout.write(replayFor(recent, '1'));
}
