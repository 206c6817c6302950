// Two participants take the whole experiment on the participant page of a running `tension trials serve`
// (src/tension/trials/participant_page.cpp) in headless Debian Chromium (playwright-core):
//   "correct" arrives as Prolific sends people (PROLIFIC_PID, STUDY_ID, SESSION_ID) and clicks the right answer
//   of every question (read from the bundle's trials.json);
//   "first" arrives with ?participant= and clicks the first choice it can; it reloads the page halfway through a
//   trial and must find itself where it was.
// Checked on every question: the examples and choices are the trial's crops in the bundle's order; progress says
// the layer and trial, and a layer's trials come together; Q2 shows the Q1 choice taken (disabled, outlined) and
// clicking it does nothing; after an answer the correct choice is outlined green and a wrong chosen one red. At
// the end the completion screen shows the code and links to the completion URL, and the page asked nothing of any
// other address.
// Usage: node trials_page.mjs BASE_URL TRIALS_JSON COMPLETION_CODE COMPLETION_URL
// Prints "ok ..." lines and exits 0, or prints the failure and exits 1.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const [base, trialsPath, code, completionUrl] = process.argv.slice(2);
const bundle = JSON.parse(readFileSync(trialsPath, 'utf8'));
const fail = (msg) => { console.log('FAIL: ' + msg); process.exit(1); };
const GREEN = 'rgb(30, 158, 58)', RED = 'rgb(208, 38, 43)';

async function waitQuestionOrEnd(page) {
  await page.waitForFunction(() => {
    const a = document.getElementById('app');
    return a.dataset.screen === 'complete' || a.dataset.screen === 'error' || a.dataset.phase === 'question';
  }, null, { timeout: 15000 });
  const screen = await page.evaluate(() => document.getElementById('app').dataset.screen);
  if (screen === 'error') fail('the page shows an error: ' + await page.evaluate(() => app.dataset.error));
  return screen;
}

function view(page) {
  return page.evaluate(() => {
    const a = document.getElementById('app');
    const buttons = [...a.querySelectorAll('button[data-choice]')];
    return {
      trial: Number(a.dataset.trial),
      question: Number(a.dataset.question),
      progress: a.querySelector('[data-progress]').textContent,
      prompt: a.querySelector('[data-question-text]').textContent,
      examples: [...a.querySelectorAll('img[data-example]')].map((im) => im.getAttribute('src')),
      choices: buttons.map((b) => b.querySelector('img').getAttribute('src')),
      disabled: buttons.filter((b) => b.disabled).map((b) => Number(b.dataset.choice)),
      taken: buttons.filter((b) => b.classList.contains('taken')).map((b) => Number(b.dataset.choice)),
      loaded: [...a.querySelectorAll('img')].every((im) => im.complete && im.naturalWidth > 0),
    };
  });
}

async function run(browser, who, query, pick) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith(base)) errors.push('request outside the server: ' + r.url()); });
  await page.goto(base + query);
  await page.waitForFunction(() => ['consent', 'error'].includes(document.getElementById('app').dataset.screen));
  if (await page.evaluate(() => app.dataset.screen) !== 'consent') fail(who + ': no consent screen first');
  await page.click('[data-action="start"]');

  const layersSeen = [];
  let trials = 0, reloaded = false, q1 = -1;
  for (;;) {
    const screen = await waitQuestionOrEnd(page);
    if (screen === 'complete') break;
    let v = await view(page);
    const t = bundle.trials[v.trial];
    if (!t) fail(`${who}: unknown trial ${v.trial}`);
    const src = (c) => 'crops/' + c.crop + '.png';
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(v.examples, t.examples.map(src))) fail(`${who}: trial ${t.id} examples differ`);
    if (!same(v.choices, t.choices.map(src))) fail(`${who}: trial ${t.id} choices differ`);
    if (!v.loaded) fail(`${who}: trial ${t.id}: choices clickable before every picture loaded`);
    if (v.question === 1) {
      ++trials;
      if (!layersSeen.length || layersSeen[layersSeen.length - 1] !== t.layer) {
        if (layersSeen.includes(t.layer)) fail(`${who}: layer ${t.layer} comes back after another layer`);
        layersSeen.push(t.layer);
      }
      if (v.disabled.length || v.taken.length) fail(`${who}: trial ${t.id} Q1 has taken choices ${v.taken}`);
      if (!v.prompt.includes('new MEI')) fail(`${who}: Q1 prompt is "${v.prompt}"`);
    } else {
      if (!same(v.taken, [q1]) || !same(v.disabled, [q1])) {
        fail(`${who}: trial ${t.id} Q2 should take the Q1 choice ${q1} only: takes ${v.taken}, disables ${v.disabled}`);
      }
      if (!v.prompt.includes('MII')) fail(`${who}: Q2 prompt is "${v.prompt}"`);
      // Clicking the taken choice does nothing.
      await page.evaluate((k) => document.querySelector(`button[data-choice="${k}"]`).click(), q1);
      await page.waitForTimeout(30);
      const phase = await page.evaluate(() => app.dataset.phase);
      if (phase !== 'question') fail(`${who}: the taken choice could be clicked`);
      if (who === 'first' && trials === 8 && !reloaded) {
        await page.reload();
        await waitQuestionOrEnd(page);
        const w = await view(page);
        if (w.trial !== v.trial || w.question !== 2 || JSON.stringify(w.taken) !== JSON.stringify([q1])) {
          fail(`${who}: after a reload at trial ${v.trial} Q2 the page shows trial ${w.trial} Q${w.question}`);
        }
        console.log(`ok resumed at trial ${v.trial} Q2 after a reload`);
        reloaded = true;
        v = w;
      }
    }
    const inLayer = bundle.trials.filter((x) => x.layer === t.layer).length;
    const number = trials - bundle.trials.filter((x) => layersSeen.slice(0, -1).includes(x.layer)).length;
    const progress = `Layer ${layersSeen.length} of ${bundle.layers.length} · trial ${number} of ${inLayer} · ` +
                     `question ${v.question} of 2`;
    if (v.progress !== progress) fail(`${who}: progress "${v.progress}", expected "${progress}"`);

    const choice = pick(t, v);
    if (v.question === 1) q1 = choice;
    await page.click(`button[data-choice="${choice}"]`);
    await page.waitForFunction(() => app.dataset.phase === 'feedback', null, { timeout: 15000 });
    const fb = await page.evaluate(() => [...document.querySelectorAll('button[data-choice]')].map((b) => ({
      correct: b.classList.contains('correct'), wrong: b.classList.contains('wrong'),
      border: getComputedStyle(b).borderTopColor })));
    const answer = v.question === 1 ? t.mei : t.mii;
    fb.forEach((f, k) => {
      if (f.correct !== (k === answer)) fail(`${who}: trial ${t.id} Q${v.question}: choice ${k} green is ${f.correct}`);
      if (f.wrong !== (k === choice && choice !== answer)) fail(`${who}: trial ${t.id}: choice ${k} red is ${f.wrong}`);
    });
    if (fb[answer].border !== GREEN) fail(`${who}: the correct choice's outline is ${fb[answer].border}`);
    if (choice !== answer && fb[choice].border !== RED) fail(`${who}: wrong choice outline ${fb[choice].border}`);
    await page.click('[data-action="next"]');
  }
  const end = await page.evaluate(() => ({
    code: document.querySelector('[data-completion-code]')?.textContent,
    href: document.querySelector('[data-completion-link]')?.getAttribute('href'),
  }));
  if (end.code !== code) fail(`${who}: completion code "${end.code}", expected "${code}"`);
  if (end.href !== completionUrl) fail(`${who}: completion link "${end.href}", expected "${completionUrl}"`);
  if (trials !== bundle.trials.length) fail(`${who}: ${trials} trials shown, the bundle has ${bundle.trials.length}`);
  // Finished: a reload shows the completion screen again, and the API takes no more answers.
  await page.reload();
  await page.waitForFunction(() => app.dataset.screen === 'complete');
  const participant = new URLSearchParams(query).get('PROLIFIC_PID') || new URLSearchParams(query).get('participant');
  const status = await page.evaluate(async (p) => (await fetch('/api/answer', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ participant: p, trial: 0, question: 1, choice: 0, rt_ms: 1 }) })).status, participant);
  if (status !== 409) fail(`${who}: an answer after the end got ${status}`);
  if (errors.length) fail(who + ': ' + errors.join('; '));
  console.log(`ok ${who}: ${trials} trials, layers ${layersSeen.join(',')}, completion code and link shown`);
  await page.close();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  await run(browser, 'correct', '?PROLIFIC_PID=5f0c1d2e3a4b5c6d7e8f9a0b&STUDY_ID=study-1&SESSION_ID=session-1',
            (t, v) => (v.question === 1 ? t.mei : t.mii));
  await run(browser, 'first', '?participant=first-clicker',
            (t, v) => [...Array(9).keys()].find((k) => !v.disabled.includes(k)));
} finally {
  await browser.close();
}
