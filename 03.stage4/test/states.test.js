// The state-code table agrees with the atlas the page draws.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const atlas = require('us-atlas/states-10m.json');
const { STATES } = require('../lib/states');

test('every state code maps to the FIPS id of the atlas shape with the same name', () => {
  const nameByFips = new Map(atlas.objects.states.geometries.map((g) => [g.id, g.properties.name]));
  for (const [code, fips, name] of STATES) {
    assert.equal(nameByFips.get(fips), name, `${code} -> ${fips}`);
  }
  // 50 states + DC + Puerto Rico, each once
  assert.equal(new Set(STATES.map((s) => s[0])).size, 52);
});
