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
 *
 * 한국어
 * ------
 * 과제 4.4 (15분): 어떤 텍스트에도 안전한 Server-Sent Events frame 하나.
 * server.js는 Server-Sent Events로 페이지에 보냅니다. 긴 HTTP 응답 하나에 이벤트마다 "frame" 하나를
 * 쓰고, 각 줄은 "field: value"이며 빈 줄이 이벤트를 보냅니다. 브라우저는 콜론 뒤의 공백을 하나 지우고,
 * "\n", "\r\n", "\r"은 모두 줄을 끝냅니다.
 * 할 일: sseFrame(event, data, id)가 frame 하나를 문자열로 돌려줍니다. event가 null/undefined이면 event:
 * 줄 없음, data가 문자열이면 그 줄마다 data: 줄 하나, 아니면 JSON.stringify(data), id는 선택(undefined이면
 * id: 줄 없음), event나 id에 줄바꿈이 있으면 Error를 던지고, frame은 빈 줄로 끝냅니다.
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
