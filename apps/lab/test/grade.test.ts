// Grading captures: two labs of two student IDs write their captures (the reference lab, the
// real programs, with IPsec; ours without IPsec), then `sstt-lab check --pcap` grades each for its own ID and for the other's, a capture
// cut before the POP3 session, and the formats: the live check's JUnit validated against the JUnit
// schema, JSON, and the HTML report opened in headless Chromium (Debian's chromium).
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, requireTool, run, tempDir } from '@sstt/testkit';
import { type Step, TSHARK_READ } from '../src/grade.ts';
import { labContext } from '../src/lab.ts';
import { CLI, lab, labUp, leftOver, requireLabRun, stopWithCtrlC } from './helpers.ts';

// IDs of their own, so these labs never share namespace names with a lab of the default ID.
const A = labContext({ id: '4321' });
const B = labContext({ id: '4322' });
const tmp = tempDir('sstt-lab-grade-');
const capture = { a: path.join(tmp.dir, 'a.pcapng'), b: path.join(tmp.dir, 'b-no-ipsec.pcapng') };
let junit = '';

interface Graded {
  code: number;
  ok: boolean;
  steps: Step[];
}

async function grade(file: string, id: string, ...extra: string[]): Promise<Graded> {
  const r = await run(process.execPath, [CLI, 'check', '--pcap', file, '--id', id, '--format', 'json', ...extra], { timeoutMs: 120_000 });
  expect(r.stderr).toBe('');
  const json = JSON.parse(r.stdout) as { ok: boolean; steps: Step[] };
  return { code: r.code ?? -1, ...json };
}
const failing = (g: Graded) => g.steps.filter((x) => !x.ok).map((x) => x.key);

/** Brings a lab up, runs the live check (in `format`), keeps its capture, takes it down. */
async function captureOf(ctx: typeof A, to: string, format: string, ...up: string[]): Promise<string> {
  const u = await labUp('--id', ctx.s.id, ...up);
  let out: string;
  try {
    const check = await lab('check', '--id', ctx.s.id, '--format', format);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    out = check.stdout;
    fs.copyFileSync(ctx.topo.capture, to);
  } finally {
    await stopWithCtrlC(u);
  }
  expect(await leftOver(ctx.topo)).toEqual([]);
  return out;
}

beforeAll(async () => {
  requireLabRun();
  for (const c of [A, B]) await lab('down', '--id', c.s.id);
  junit = await captureOf(A, capture.a, 'junit', '--reference');
  expect(await captureOf(B, capture.b, 'table', '--no-ipsec')).toMatch(/all 8 steps hold\n$/);
});

afterAll(() => tmp.remove());

describe('sstt-lab check --pcap', () => {
  it("the live check's JUnit report validates against the JUnit schema, every step a passing testcase", async () => {
    const file = path.join(tmp.dir, 'live.xml');
    fs.writeFileSync(file, junit);
    const v = await run(requireTool('xmllint'), ['--noout', '--schema', path.join(import.meta.dirname, 'junit.xsd'), file]);
    expect(v.stderr).toBe(`${file} validates\n`);
    // The report's 10 steps and the live lab's relay outside.
    expect(junit.match(/<testcase /g)).toHaveLength(11);
    expect(junit).toContain(`<testsuite name="sstt-lab check ${A.s.domain}" tests="11" failures="0" errors="0" skipped="0">`);
  });

  it("a capture passes with its own ID and fails with another's, each failing step naming the mismatch", async () => {
    const own = await grade(capture.a, A.s.id);
    expect(failing(own)).toEqual([]);
    expect(own.code).toBe(0);
    // The ESP evidence names each direction's frames: tshark's outer IP header agrees with each one.
    const esp = own.steps.find((x) => x.key === 'esp')!;
    const m = /^cliente->servidor SPI (0x[0-9a-f]+) \(frames? ([\d, .]+)\); servidor->cliente SPI (0x[0-9a-f]+) \(frames? ([\d, .]+)\)$/.exec(esp.evidence);
    expect(m, esp.evidence).not.toBeNull();
    const outer = await run(requireTool('tshark'), ['-r', capture.a, '-Y', 'esp', '-T', 'fields', '-E', 'occurrence=f', '-e', 'frame.number', '-e', 'ip.src']);
    const srcOf = new Map(
      outer.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t') as [string, string]),
    );
    const listed = (text: string) => text.split(', ').filter((n) => n !== '...');
    for (const n of listed(m![2]!)) expect(srcOf.get(n), `frame ${n}`).toBe(A.s.network.client);
    for (const n of listed(m![4]!)) expect(srcOf.get(n), `frame ${n}`).toBe(A.s.network.server);
    expect(m![1]).not.toBe(m![3]);
    const other = await grade(capture.a, B.s.id);
    expect(other.code).toBe(1);
    expect(failing(other)).toEqual(['dns-a', 'dns-aaaa', 'smtp', 'pop3', 'http', 'https']);
    const { server, client } = B.s.network;
    expect(other.steps[0]!.reason).toBe(`no DNS reply for www.${B.s.domain} A from ${server} to ${client}; the capture is of ${A.s.domain}, not ${B.s.domain}`);
    for (const st of other.steps.filter((x) => !x.ok)) expect(st.reason).toMatch(new RegExp(`; the capture is of ${A.s.domain}, not ${B.s.domain}$`));
    // And the other way round: B's capture is not A's.
    expect(failing(await grade(capture.b, A.s.id, '--no-ipsec'))).toEqual(['dns-a', 'dns-aaaa', 'smtp', 'pop3', 'http', 'https']);
  });

  it('a capture made with --no-ipsec passes its services, and fails the IPsec steps on what went in clear', async () => {
    expect(failing(await grade(capture.b, B.s.id, '--no-ipsec'))).toEqual([]);
    const g = await grade(capture.b, B.s.id);
    expect(g.code).toBe(1);
    expect(failing(g)).toEqual(['ike', 'esp', 'clear']);
    const clear = g.steps.find((x) => x.key === 'clear')!;
    expect(clear.reason).toMatch(
      /^\d+ frames in clear between 192\.168\.56\.101 and 192\.168\.56\.102 \(frames \d+, .*\): the services must travel in the tunnel$/,
    );
  });

  it('a capture cut before the POP3 session fails on the steps it lacks, and only on those', async () => {
    // The first POP3 frame of all (a replay that polled the mailbox has several sessions).
    const pop = await run(requireTool('tshark'), ['-r', capture.a, ...TSHARK_READ, '-Y', 'pop', '-T', 'fields', '-e', 'frame.number']);
    const firstPop = Number(pop.stdout.split('\n')[0]);
    expect(firstPop).toBeGreaterThan(0);
    const cut = path.join(tmp.dir, 'cut.pcapng');
    const w = await run(requireTool('tshark'), ['-r', capture.a, '-Y', `frame.number < ${firstPop}`, '-w', cut]);
    expect(w.code, w.stderr).toBe(0);
    const g = await grade(cut, A.s.id);
    expect(g.code).toBe(1);
    expect(failing(g)).toEqual(['pop3', 'http', 'https']);
    expect(g.steps.find((x) => x.key === 'pop3')!.reason).toBe(
      `no POP3 login of ${A.s.users[1]!.name} between ${A.s.network.client} and ${A.s.network.server}`,
    );
  });

  describe('the HTML report in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: requireTool('chromium'), args: CHROMIUM_ARGS, chromiumSandbox: false });
    });
    afterAll(async () => {
      await browser?.close();
    });

    /** The report as a reader sees it: one block per step with its result, reason and frames. */
    class ReportPage {
      constructor(readonly page: Page) {}
      summary() {
        return this.page.locator('#summary').textContent();
      }
      async steps() {
        return this.page.locator('section.step').evaluateAll((els) =>
          els.map((el) => ({
            key: el.getAttribute('data-step'),
            title: el.querySelector('h2')?.textContent ?? '',
            reason: el.querySelector('.reason')?.textContent ?? null,
            frames: el.querySelector('pre.frames')?.textContent ?? '',
          })),
        );
      }
    }

    it('shows each step with PASS or FAIL, the reason of a failure and the frames as tshark decodes them', async () => {
      const html = path.join(tmp.dir, 'report.html');
      const r = await run(process.execPath, [CLI, 'check', '--pcap', capture.b, '--id', B.s.id, '--format', 'html'], { timeoutMs: 120_000 });
      expect(r.code).toBe(1);
      fs.writeFileSync(html, r.stdout);
      const g = await grade(capture.b, B.s.id);
      const page = await browser.newPage();
      try {
        // Self-contained: the page asks for nothing (a request would be a missing resource).
        const requests: string[] = [];
        page.on('request', (q) => requests.push(q.url()));
        await page.goto(`file://${html}`);
        const report = new ReportPage(page);
        expect(await report.summary()).toBe('3 of 10 steps failed');
        const shown = await report.steps();
        expect(shown.map((x) => x.key)).toEqual(g.steps.map((x) => x.key));
        for (const [i, st] of g.steps.entries()) {
          expect(shown[i]!.title).toBe(`${st.ok ? 'PASS' : 'FAIL'} ${st.name}`);
          expect(shown[i]!.reason).toBe(st.ok ? null : st.reason);
        }
        // The DNS step's frames are tshark's one-line decodes of the replies.
        expect(shown[0]!.frames).toMatch(
          new RegExp(`^\\s*${g.steps[0]!.frames[0]} .*DNS.*Standard query response .* A www\\.${B.s.domain.replace('.', '\\.')} `, 'm'),
        );
        expect(requests).toEqual([`file://${html}`]);
      } finally {
        await page.close();
      }
    });
  });
});
