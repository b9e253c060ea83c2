// The check's result in the four formats `sstt-lab check --format` writes: the table (default),
// JSON, JUnit XML (one testsuite, one testcase per step, a <failure> with the reason: the shape
// Jenkins, GitLab and the course platforms read) and one self-contained HTML page with each step,
// its result, the frames that prove it as tshark decodes them, and the reason when it fails.
import path from 'node:path';
import { decodeFrames, type Step } from './grade.ts';

export const FORMATS = ['table', 'json', 'junit', 'html'] as const;
export type Format = (typeof FORMATS)[number];

export interface CheckResult {
  /** The domain graded, sstt<ID>.org. */
  domain: string;
  id: string;
  capture: string;
  /** 'live': the lab replayed now; 'pcap': a capture made elsewhere. */
  mode: 'live' | 'pcap';
  steps: Step[];
}

export const passed = (r: CheckResult) => r.steps.every((x) => x.ok);

function summary(r: CheckResult): string {
  const failed = r.steps.filter((x) => !x.ok).length;
  return failed === 0 ? `all ${r.steps.length} steps hold` : `${failed} of ${r.steps.length} steps failed`;
}

export function renderTable(r: CheckResult, cwd = process.cwd()): string {
  const w = Math.max(...r.steps.map((x) => x.name.length));
  const lines = [`${'STEP'.padEnd(w)}  RESULT  EVIDENCE (${path.relative(cwd, r.capture) || r.capture})`];
  for (const x of r.steps) {
    const session = x.session ? ` (console #/sessions/${x.session})` : '';
    lines.push(`${x.name.padEnd(w)}  ${x.ok ? 'PASS  ' : 'FAIL  '}  ${x.ok ? x.evidence : `${x.reason}; ${x.evidence}`}${session}`);
  }
  lines.push(summary(r));
  return `${lines.join('\n')}\n`;
}

export function renderJson(r: CheckResult): string {
  return `${JSON.stringify({ ...r, ok: passed(r) }, null, 2)}\n`;
}

/** XML 1.0 §2.4 and §3.3.3: the five characters escaped in text and attributes; control characters dropped (§2.2). */
export function xmlEscape(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function renderJunit(r: CheckResult): string {
  const failures = r.steps.filter((x) => !x.ok).length;
  const suite = `sstt-lab check ${r.domain}`;
  const cls = `sstt-lab.${r.mode}.${r.domain}`;
  const cases = r.steps.map((x) => {
    const head = `    <testcase classname="${xmlEscape(cls)}" name="${xmlEscape(x.name)}">`;
    const out = `      <system-out>${xmlEscape(x.evidence)}</system-out>`;
    return x.ok
      ? [head, out, '    </testcase>']
      : [head, `      <failure type="step" message="${xmlEscape(x.reason ?? '')}">${xmlEscape(x.evidence)}</failure>`, out, '    </testcase>'];
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(suite)}" tests="${r.steps.length}" failures="${failures}" errors="0">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${r.steps.length}" failures="${failures}" errors="0" skipped="0">`,
    '    <properties>',
    `      <property name="capture" value="${xmlEscape(r.capture)}"/>`,
    `      <property name="id" value="${xmlEscape(r.id)}"/>`,
    '    </properties>',
    ...cases.flat(),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export async function renderHtml(r: CheckResult): Promise<string> {
  const decoded = await decodeFrames(
    r.capture,
    r.steps.flatMap((x) => x.frames),
  );
  const rows = r.steps.map((x) => {
    const frames = x.frames.map((n) => decoded.get(n) ?? String(n)).join('\n');
    return [
      `<section class="step ${x.ok ? 'pass' : 'fail'}" data-step="${x.key}">`,
      `<h2><span class="result">${x.ok ? 'PASS' : 'FAIL'}</span> ${xmlEscape(x.name)}</h2>`,
      x.ok ? '' : `<p class="reason">${xmlEscape(x.reason ?? '')}</p>`,
      `<p class="evidence">${xmlEscape(x.evidence)}</p>`,
      x.session ? `<p class="session">console session <code>#/sessions/${xmlEscape(x.session)}</code></p>` : '',
      frames ? `<pre class="frames">${xmlEscape(frames)}</pre>` : '<p class="frames none">no frame</p>',
      '</section>',
    ].join('\n');
  });
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>sstt-lab check ${xmlEscape(r.domain)}: ${passed(r) ? 'PASS' : 'FAIL'}</title>`,
    // One file, nothing fetched: the styles inline, no script.
    '<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:70em}h1{font-size:1.4em}.step{border-left:6px solid;padding:.2em 1em;margin:1em 0}',
    '.pass{border-color:#2a7d2a}.fail{border-color:#b3261e;background:#fff4f3}.result{font-family:monospace}.pass .result{color:#2a7d2a}.fail .result{color:#b3261e}',
    'pre{background:#f4f4f4;padding:.5em;overflow-x:auto;font-size:12px}.reason{font-weight:bold}</style>',
    '</head><body>',
    `<h1>sstt-lab check ${xmlEscape(r.domain)} (ID ${xmlEscape(r.id)})</h1>`,
    `<p>Capture <code>${xmlEscape(r.capture)}</code>, ${r.mode === 'live' ? 'replayed in the lab now' : 'graded as made elsewhere'}. <strong id="summary">${summary(r)}</strong></p>`,
    ...rows,
    '</body></html>',
    '',
  ].join('\n');
}

export async function render(r: CheckResult, format: Format): Promise<string> {
  switch (format) {
    case 'json':
      return renderJson(r);
    case 'junit':
      return renderJunit(r);
    case 'html':
      return renderHtml(r);
    default:
      return renderTable(r);
  }
}
