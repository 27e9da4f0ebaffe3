/**
 * Exercise 4.5 (stretch, 25 minutes): no offer twice after a reconnect, with Last-Event-ID.
 *
 * server.js keeps the last 20 notices (relay.recent, newest first) and writes them all to
 * every page that opens /events. But the browser's EventSource also reconnects by itself
 * after a network blip (every 2 s, the server's `retry:`), and a page that was already open
 * then gets the same notices again: its offers feed shows them twice.
 *
 * Server-Sent Events have the fix built in: when frames carry an id (`id: 17`), the browser
 * remembers the last one and sends it back on reconnect, in the request header
 * Last-Event-ID. The server then replays only what came after it.
 *
 * Given:
 *   - recent: the notices kept, newest first, each with its number: [{ id: 50, notice: {...} },
 *     { id: 49, notice: {...} }, ...]; ids count up by one per notice, from 1 when the server
 *     starts; at most 20 are kept.
 *   - lastEventId: the Last-Event-ID header, a string ('45'), or undefined on a first visit.
 *
 * To do: replayFor(recent, lastEventId) returns the frames to write, as one string:
 *   - one frame per notice to send: event: notice, id: <its id>, data: JSON.stringify(notice);
 *   - oldest first (the page puts each new line on top of its feed);
 *   - with a header N (a whole number): the notices with an id above N only;
 *     but when N is above every id here, the server has restarted and counts from 1 again:
 *     send them all;
 *   - no header, an empty one, or one that is not a whole number ('abc', '40.5'): send them all;
 *   - '' when there is nothing to send.
 *
 * Check:        make check-stage4 EX=4.5
 * Try it:       node exercises/stage4/replay.js
 *
 * 한국어
 * ------
 * 과제 4.5 (심화, 25분): Last-Event-ID로 다시 연결해도 제안을 두 번 보이지 않기.
 * server.js는 최근 알림 20개(relay.recent, 최신 것부터)를 보관해 /events를 여는 모든 페이지에 씁니다.
 * 그런데 EventSource는 네트워크가 잠깐 끊기면 스스로 다시 연결하므로, 이미 열려 있던 페이지가 같은
 * 알림을 또 받습니다. frame에 id가 있으면 브라우저가 다시 연결할 때 마지막 id를 Last-Event-ID 헤더로
 * 돌려보내고, 서버는 그 뒤의 것만 다시 보내면 됩니다.
 * 할 일: replayFor(recent, lastEventId)가 쓸 frame들을 문자열 하나로 돌려줍니다. 알림마다 event: notice,
 * id, data: JSON.stringify(notice) frame 하나, 오래된 것부터. 헤더 N(정수)이 있으면 id가 N보다 큰 것만,
 * 단 N이 모든 id보다 크면 서버가 다시 시작한 것이니 전부. 헤더가 없거나 비었거나 정수가 아니면 전부.
 * 보낼 것이 없으면 ''.
 */
'use strict';

function replayFor(recent, lastEventId) {
  // which entries to send, then [...].reverse().map((e) => `event: notice\nid: ${e.id}\ndata: ...\n\n`).join('')
  throw new Error('not implemented: choose the notices to replay, then write their frames');
}

module.exports = { replayFor };

if (require.main === module) {        // node exercises/stage4/replay.js
  const recent = [3, 2, 1].map((id) => ({ id, notice: { type: 'sms_sent', customer_id: id } }));
  process.stdout.write(replayFor(recent, '1'));
}
