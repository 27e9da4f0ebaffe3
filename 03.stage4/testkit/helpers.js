/**
 * Shared by the node tests: real engines, unique names, and the index layout
 * taken from the one data model in common/schema.py (through Python), so the
 * queries are tested against exactly the mappings the pipeline writes.
 */
'use strict';

const path = require('node:path');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { Client } = require('@elastic/elasticsearch');
const { readConfig, esClientOptions } = require('../lib/config');

const REPO = path.resolve(__dirname, '..', '..');
const PYTHON = process.env.PYTHON || path.join(REPO, '.venv', 'bin', 'python');

const unique = () => crypto.randomBytes(4).toString('hex');

/** {settings, mappings} for an index of `fields` (a tuple name in common.schema). */
function indexBody(fields) {
  const code = 'import json, sys; from common import schema; '
    + `print(json.dumps(schema.es_index_template("x", schema.${fields})["template"]))`;
  return JSON.parse(execFileSync(PYTHON, ['-c', code], { cwd: REPO, encoding: 'utf8' }));
}

/** A client for the configured Elasticsearch (ES_URL etc.), patient enough for tests. */
function testEs() {
  return new Client({ ...esClientOptions(readConfig()), requestTimeout: 30000 });
}

/** "YYYY-MM-DD HH:MM:SS" in UTC, the event datetime format. */
const eventTime = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

module.exports = { REPO, PYTHON, unique, indexBody, testEs, eventTime };
