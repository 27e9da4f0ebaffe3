/*
 * What one line of the live offers feed says, from a notice on the Redis
 * channel `offers` (stage 3: {type, customer_id, name, level, track_id, title,
 * offer, at}; ids may arrive as numbers or strings).
 *
 * Ids are non-negative integers, 0 included: a value is missing only when it
 * is null, undefined or an empty string, never because it is 0 or "0".
 * Loaded by the page before app.js (a global function) and by
 * test/feed.test.js (module.exports).
 */
'use strict';

/** True unless `value` is null, undefined or blank: 0 and "0" are values. */
const isGiven = (value) => value !== null && value !== undefined && String(value).trim() !== '';

/** {kind, label, who, level, track, at} for one feed line (`at`: a Date, now when the
 * notice has none, null when it cannot be read). */
function describeNotice(n) {
  const at = isGiven(n.at) ? new Date(n.at) : new Date();
  return {
    kind: n.type === 'sms_sent' ? 'sms_sent' : 'sms_offer',
    label: n.type === 'sms_sent' ? 'SMS sent' : 'offer queued',
    who: isGiven(n.name) ? String(n.name)
      : isGiven(n.customer_id) ? `customer ${n.customer_id}` : 'unknown customer',
    level: isGiven(n.level) ? String(n.level) : '?',
    track: isGiven(n.title) ? String(n.title)
      : isGiven(n.track_id) ? `track ${n.track_id}` : 'unknown track',
    at: at && !Number.isNaN(at.getTime()) ? at : null,
  };
}

if (typeof module === 'object' && module.exports) module.exports = { describeNotice, isGiven };
