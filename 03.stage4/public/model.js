/*
 * What the "Model" card says, from stage 3's model status hash (Redis
 * `model:status`, the setting REDIS_MODEL_STATUS, written by 02.stage3/train.py
 * after each training round; every value a string):
 *   current_version, current_error, current_trained_at, current_error_now  the promoted model
 *   last_version, last_error, last_verdict, last_reason, last_at            the last round
 *   labels, labels_from_outcomes                                            its training labels
 * Loaded by the page after feed.js (percent, readTime, isGiven) and before app.js,
 * and by test/model.test.js (module.exports).
 */
'use strict';

const modelLib = typeof module === 'object' && module.exports ? require('./feed') : { percent, readTime, isGiven };

/** "14:05:09" today, "3 Sep 14:05" another day (the browser's time zone); '' when unreadable. */
function whenText(value, now = new Date()) {
  if (!modelLib.isGiven(value)) return '';
  const at = modelLib.readTime(value);
  if (!at) return '';
  if (at.toDateString() === now.toDateString()) return at.toLocaleTimeString('en-GB');
  return at.toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

const groupDigits = (value) => Number(value).toLocaleString('en-US');

/**
 * The card's texts: {version, error, detail, round: null | {verdict, text, reason}, labels}.
 * `status` is the hash ({} before the first round); `verdict` is "passed", "refused" or "unknown".
 */
function describeModel(status, now = new Date()) {
  const s = status || {};
  const { isGiven, percent } = modelLib;
  const hasModel = isGiven(s.current_version);
  const detail = [];
  if (hasModel) {
    if (isGiven(s.current_trained_at)) detail.push(`trained ${whenText(s.current_trained_at, now)}`);
    if (percent(s.current_error_now)) detail.push(`now ${percent(s.current_error_now)} on the latest history`);
  } else {
    detail.push(isGiven(s.last_version) ? 'no round has passed the gate yet'
      : 'appears after stage 3 trains (make stage3-train)');
  }
  let round = null;
  if (isGiven(s.last_version)) {
    const verdict = s.last_verdict === 'passed' || s.last_verdict === 'refused' ? s.last_verdict : 'unknown';
    const error = percent(s.last_error);
    const at = whenText(s.last_at, now);
    round = {
      verdict,                                   // the card shows it as a green / red badge before `text`
      text: [`last round ${s.last_version}`, error && `test error ${error}`, at].filter(Boolean).join(' · '),
      reason: isGiven(s.last_reason) ? String(s.last_reason) : '',
    };
  }
  let labels = '';
  if (isGiven(s.labels) && Number.isFinite(Number(s.labels))) {
    labels = `labels: ${groupDigits(s.labels)}`;
    if (isGiven(s.labels_from_outcomes)) labels += ` (${groupDigits(s.labels_from_outcomes)} from SMS outcomes)`;
  }
  return {
    version: hasModel ? String(s.current_version) : 'no model yet',
    error: hasModel && percent(s.current_error) ? `test error ${percent(s.current_error)}` : '',
    detail: detail.join(' · '),
    round,
    labels,
  };
}

if (typeof module === 'object' && module.exports) module.exports = { describeModel, whenText };
