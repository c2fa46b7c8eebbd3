// The allow rules of the demo server's /forward route (scripts/serve-forward.mjs): which targets
// each `--allow-host` form lets through. The route itself is tested in demo.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllowRule, splitAllowHosts } from '../../scripts/serve-forward.mjs';

const allows = (rule, target) => parseAllowRule(rule)(new URL(target));

test('a bare host allows that host on the default port of http and https only', () => {
  assert.ok(allows('sso.dynatrace.com', 'https://sso.dynatrace.com/sso/oauth2/token'));
  assert.ok(allows('SSO.Dynatrace.com', 'http://sso.dynatrace.com/'));
  assert.ok(!allows('sso.dynatrace.com', 'https://sso.dynatrace.com:8443/'));
  assert.ok(!allows('sso.dynatrace.com', 'https://sso.dynatrace.com.evil.example/'));
  assert.ok(!allows('sso.dynatrace.com', 'https://evil-sso.dynatrace.com/'));
});

test('host:port allows that port (443 matches an https URL without a port)', () => {
  assert.ok(allows('controller.example.com:8181', 'https://controller.example.com:8181/controller'));
  assert.ok(!allows('controller.example.com:8181', 'https://controller.example.com/controller'));
  assert.ok(allows('controller.example.com:443', 'https://controller.example.com/'));
  assert.ok(!allows('controller.example.com:443', 'http://controller.example.com/'));
});

test('*.domain allows subdomains, not the domain itself nor look-alikes', () => {
  assert.ok(allows('*.apps.dynatrace.com', 'https://abc12345.apps.dynatrace.com/platform/x'));
  assert.ok(!allows('*.apps.dynatrace.com', 'https://apps.dynatrace.com/'));
  assert.ok(!allows('*.apps.dynatrace.com', 'https://abc12345.apps.dynatrace.com.evil.example/'));
  assert.ok(!allows('*.apps.dynatrace.com', 'https://evilapps.dynatrace.com/'));
});

test('an origin allows exactly that origin', () => {
  assert.ok(allows('https://abc12345.apps.dynatrace.com', 'https://abc12345.apps.dynatrace.com/platform/x'));
  assert.ok(!allows('https://abc12345.apps.dynatrace.com', 'http://abc12345.apps.dynatrace.com/'));
  assert.ok(!allows('https://abc12345.apps.dynatrace.com', 'https://abc12345.apps.dynatrace.com:444/'));
});

test('malformed rules are refused; ALLOW_HOSTS splits on commas and spaces', () => {
  for (const bad of ['', 'host/path', 'user@host', 'file:///etc', 'a b:c']) {
    assert.throws(() => parseAllowRule(bad), /allow-host/, bad);
  }
  assert.deepEqual(splitAllowHosts(' a.example, b.example  c.example:8181,'), ['a.example', 'b.example', 'c.example:8181']);
  assert.deepEqual(splitAllowHosts(undefined), []);
});
