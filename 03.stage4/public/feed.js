/*
 * What one line of the live offers feed says, from a notice on the Redis
 * channel `offers` (stage 3: {type, customer_id, name, level, track_id, title,
 * offer, at}; ids may arrive as numbers or strings), or, after each retraining
 * round, {type: "model_round", version, error, verdict, reason, current, at}.
 *
 * Ids are non-negative integers, 0 included: a value is missing only when it
 * is null, undefined or an empty string, never because it is 0 or "0".
 * Loaded by the page before model.js and app.js (global functions) and by
 * test/feed.test.js (module.exports).
 */
'use strict';

/** True unless `value` is null, undefined or blank: 0 and "0" are values. */
const isGiven = (value) => value !== null && value !== undefined && String(value).trim() !== '';

/** 0.0612 or "0.0612" -> "6.1%"; '' when missing or not a number. */
function percent(value) {
  const n = isGiven(value) ? Number(value) : NaN;
  return Number.isFinite(n) ? `${(n * 100).toFixed(1)}%` : '';
}

/** A Date from an ISO time; now when the value is missing, null when it cannot be read. */
function readTime(value) {
  const at = isGiven(value) ? new Date(value) : new Date();
  return Number.isNaN(at.getTime()) ? null : at;
}

/** The feed line of a model_round notice: {kind, label, text, at}. */
function describeRound(n) {
  const verdict = n.verdict === 'passed' || n.verdict === 'refused' ? n.verdict : 'unknown';
  const error = percent(n.error);
  const parts = [`round ${isGiven(n.version) ? n.version : '?'} ${verdict}${error ? `: test error ${error}` : ''}`];
  if (isGiven(n.reason)) parts.push(String(n.reason));
  parts.push(isGiven(n.current) ? `current model ${n.current}` : 'no current model');
  return { kind: `model_round ${verdict}`, label: 'model round', text: parts.join(' · '), at: readTime(n.at) };
}

/** {kind, label, who, level, track, at} for one offer line, {kind, label, text, at} for a
 * model round (`at`: a Date, now when the notice has none, null when it cannot be read). */
function describeNotice(n) {
  if (n.type === 'model_round') return describeRound(n);
  return {
    kind: n.type === 'sms_sent' ? 'sms_sent' : 'sms_offer',
    label: n.type === 'sms_sent' ? 'SMS sent' : 'offer queued',
    who: isGiven(n.name) ? String(n.name)
      : isGiven(n.customer_id) ? `customer ${n.customer_id}` : 'unknown customer',
    level: isGiven(n.level) ? String(n.level) : '?',
    track: isGiven(n.title) ? String(n.title)
      : isGiven(n.track_id) ? `track ${n.track_id}` : 'unknown track',
    at: readTime(n.at),
  };
}

if (typeof module === 'object' && module.exports) module.exports = { describeNotice, isGiven, percent, readTime };
