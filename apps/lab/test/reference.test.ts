// Two labs of two student IDs side by side: the reference lab (servidor runs BIND, exim4,
// dovecot, Apache from the generated files) and ours, up at once; `check` passes unchanged on
// each; the message each servidor relayed to um.es's MX (exim's, ours) verifies with dkimpy's
// dkimverify against the domain's zone, signed with both selectors; the scenario's users exist
// inside the reference servidor only; `down --id` of one leaves the other serving; Ctrl-C leaves
// nothing of either; `compare` of their two captures, DKIM included.
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PORTS, REFERENCE_APACHE_HTTP_PORT } from '@sstt/scenario';
import { requireTool, run } from '@sstt/testkit';
import { labContext } from '../src/lab.ts';
import { outsideMail } from '../src/outside.ts';
import { dkimTags } from '../src/relayed.ts';
import { CLI, lab, labUp, leftOver, requireLabRun, stopWithCtrlC } from './helpers.ts';

const REF = labContext({ id: '4331' }, { reference: true });
const OURS = labContext({ id: '4332' });

beforeAll(async () => {
  requireLabRun();
  for (const c of [REF, OURS]) await lab('down', '--id', c.s.id);
});

afterAll(async () => {
  for (const c of [REF, OURS]) await lab('down', '--id', c.s.id);
});

it('the reference lab and ours of another ID run at once, each check passing; down --id of one leaves the other serving', async () => {
  const ref = await labUp('--id', REF.s.id, '--reference');
  const ours = await labUp('--id', OURS.s.id);
  let refDown = false;
  try {
    // What runs on each servidor, from its table.
    const p = PORTS.lab;
    const row = `BIND 9 :${p.dns}; exim4 :${p.smtp}; dovecot :${p.pop3} :${p.pop3s}; Apache 2.4 :${p.https} (SSL vhost, client certificate) :${REFERENCE_APACHE_HTTP_PORT} (plain vhost); web_sstt (sstt) :${p.http}`;
    expect(ref.output()).toContain(`servidor  ${REF.s.network.server.padEnd(17)}${row}\n`);
    expect(ours.output()).toContain(`servidor  ${OURS.s.network.server.padEnd(17)}DNS (udp+tcp) :${p.dns}, SMTP :${p.smtp}`);

    const [checkRef, checkOurs] = [await lab('check', '--id', REF.s.id), await lab('check', '--id', OURS.s.id)];
    expect(checkRef.stdout, checkRef.stdout + checkRef.stderr).toMatch(/all 11 steps hold\n$/);
    expect(checkRef.code).toBe(0);
    expect(checkOurs.stdout, checkOurs.stdout + checkOurs.stderr).toMatch(/all 11 steps hold\n$/);
    expect(checkOurs.code).toBe(0);
    for (const out of [checkRef.stdout, checkOurs.stdout]) expect(out).toMatch(/^SMTP relay to um\.es: .* PASS /m);

    // The message each servidor relayed to the outside MX (exim signed the reference's, our mail
    // app ours), as the MX kept it: dkimpy's dkimverify accepts each signature, asking the
    // domain's DNS from cliente (its resolver is servidor's: BIND's zone, or ours); d= is the
    // domain, s= each selector.
    for (const c of [REF, OURS]) {
      const kept = outsideMail(c.topo.outsideMail).at(-1);
      expect(kept, `${c.s.id}: the outside MX kept nothing`).toBeDefined();
      const message = fs.readFileSync(kept!);
      const signatures = [...message.toString('latin1').matchAll(/^DKIM-Signature:((?:.*)(?:\r\n[ \t].*)*)/gim)].map((m) => dkimTags(m[1]!));
      expect(signatures.map((x) => [x.d, x.s]).sort(), c.s.id).toEqual(c.s.mail.auth.dkim.map((k) => [c.s.domain, k.selector]).sort());
      for (const index of signatures.keys()) {
        const v = await run(process.execPath, [CLI, 'exec', 'cliente', '--id', c.s.id, '--', requireTool('dkimverify'), '--index', String(index)], {
          input: message,
          timeoutMs: 60_000,
        });
        expect(v.stdout.trim(), `${c.s.id} signature ${index}: ${v.stderr}`).toBe('signature ok');
        expect(v.code).toBe(0);
      }
    }

    // The users are servidor's own: its passwd has them, the machine's has not.
    const user = REF.s.users[0]!.name;
    expect((await lab('exec', 'servidor', '--id', REF.s.id, '--', 'id', '-un', user)).stdout).toBe(`${user}\n`);
    expect(fs.readFileSync('/etc/passwd', 'utf8')).not.toContain(`${user}:`);
    expect((await run(requireTool('getent'), ['passwd', user])).code).toBe(2);

    // down --id of the reference lab: ours still answers by name from its cliente.
    const down = await lab('down', '--id', REF.s.id);
    refDown = true;
    expect(down.stdout).toContain('lab removed');
    expect(await leftOver(REF.topo)).toEqual([]);
    const dig = await lab('exec', 'cliente', '--id', OURS.s.id, '--', requireTool('dig'), '+short', `www.${OURS.s.domain}`);
    expect(dig.stdout).toBe(`${OURS.s.network.server}\n`);
  } finally {
    // down killed its processes and up ends; a failure before down ends it with Ctrl-C instead.
    if (!refDown) ref.child.kill('SIGINT');
    await ref.exited;
    expect(await stopWithCtrlC(ours)).toBeLessThan(10_000);
  }
  expect(await leftOver(OURS.topo)).toEqual([]);
  expect(await leftOver(REF.topo)).toEqual([]);

  // compare: the two captures' dialogues after the rules of compare-rules.ts: every difference of
  // our servers from the real programs is fixed or explained there (a deliberate one is named by
  // its step in src/compare.test.ts).
  const cmp = await lab('compare', '--pcap', OURS.topo.capture, '--pcap', REF.topo.capture, '--id', OURS.s.id, '--reference-id', REF.s.id, '--format', 'json');
  expect(JSON.parse(cmp.stdout)).toEqual([]);
  expect(cmp.code).toBe(0);
  const same = await lab('compare', '--pcap', OURS.topo.capture, '--pcap', OURS.topo.capture, '--id', OURS.s.id);
  expect(same.stdout).toBe('no difference left after the rules of compare-rules.ts\n');
  expect(same.code).toBe(0);
});
