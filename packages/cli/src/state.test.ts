// The record: written before each change, one ID per checkout, gone (with its directory) once
// everything is undone, and what the banner reads from it.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadScenario, type Scenario } from '@sstt/scenario';
import { tempDir } from '@sstt/testkit';
import { HostError } from './errors.ts';
import { type Change, HostStateFile, hostSetup, hostStatePath, readHostState } from './state.ts';

let tmp: { dir: string; remove(): void };
let s: Scenario;
const scenario = (id: string) => loadScenario({ env: { SSTT_ID: id, SSTT_DATA_DIR: path.join(tmp.dir, 'var') }, flags: {}, resolvConfPath: '/nonexistent' });

beforeEach(() => {
  tmp = tempDir('sstt-state-');
  s = scenario('9721');
});
afterEach(() => tmp.remove());

describe('the record', () => {
  it('holds a change from before it is made until it is forgotten; the file and var/host go with the last section', () => {
    const st = HostStateFile.open(s);
    expect(hostSetup(s)).toEqual({ trusted: false, resolved: false });
    st.begin('trust', { client: s.users[0]!.name });
    const change: Change = { kind: 'file', file: '/etc/x', sha256: 'ab' };
    st.record('trust', change);
    // On disk at once, as a new process (an undo after a crash) reads it.
    expect(readHostState(hostStatePath(s))).toEqual({ version: 1, id: s.id, domain: s.domain, trust: { client: s.users[0]!.name, changes: [change] } });
    expect(hostSetup(s)).toEqual({ trusted: true, resolved: false });
    st.begin('resolve', { method: 'hosts' });
    expect(hostSetup(s)).toEqual({ trusted: true, resolved: true });
    st.forget('trust', change);
    st.end('trust');
    expect(readHostState(hostStatePath(s))).toEqual({ version: 1, id: s.id, domain: s.domain, resolve: { method: 'hosts', changes: [] } });
    st.end('resolve');
    expect(fs.existsSync(path.dirname(hostStatePath(s)))).toBe(false);
    expect(fs.existsSync(s.paths.data)).toBe(true);
  });

  it("refuses another ID's record, naming the commands that undo it; an ended one is no obstacle", () => {
    const other = scenario('1234');
    const st = HostStateFile.open(other);
    st.begin('resolve', { method: 'hosts' });
    expect(() => HostStateFile.open(s)).toThrow(
      new HostError(`${hostStatePath(s)} records what sstt did for ID 1234 (sstt1234.org), not 9721: undo that first with npx sstt resolve --undo --id 1234`),
    );
    expect(hostSetup(s)).toEqual({ trusted: false, resolved: false });
    st.end('resolve');
    expect(() => HostStateFile.open(s)).not.toThrow();
  });

  it('a file that is not a record of this version is an error, never ignored; the banner just says nothing', () => {
    const file = hostStatePath(s);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"version": 7}');
    expect(() => readHostState(file)).toThrow(new HostError(`${file} is not a state file of this version of sstt (version 7)`));
    fs.writeFileSync(file, 'not json');
    expect(() => HostStateFile.open(s)).toThrow(new HostError(`${file} is not the JSON sstt writes: move it away only if you know nothing is installed`));
    expect(hostSetup(s)).toEqual({ trusted: false, resolved: false });
  });

  it('under sudo the directories it makes under the checkout belong to the invoking user', () => {
    const st = HostStateFile.open(s, { uid: 65534, gid: 65534 });
    st.begin('trust', {});
    for (const d of [s.paths.data, path.dirname(hostStatePath(s))]) expect(fs.statSync(d).uid).toBe(65534);
    expect(fs.statSync(hostStatePath(s)).uid).toBe(process.getuid!());
  });
});
