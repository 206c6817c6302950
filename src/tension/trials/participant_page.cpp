#include "tension/trials/participant_page.h"

namespace tension::trials {

namespace {

// Requests are relative to the page, so that the study also works behind a proxy that serves it under a sub-path.
// Screens (main[data-screen]): consent, trial, complete, error. On a trial, main[data-phase] is "loading" while
// the pictures load, "question" while a choice can be clicked (the response time runs from here), "busy" while an
// answer is being sent and "feedback" after it. Choices are button[data-choice="0".."8"], the examples
// img[data-example="0".."5"]; buttons take the classes "correct" (green), "wrong" (red, the chosen wrong one) and
// "taken" (Q2: the Q1 choice, disabled).
const char* const kParticipantPageHtml = R"page(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Image study</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f4; color: #222; }
  main { max-width: 980px; margin: 0 auto; padding: 16px 24px 40px; }
  h1 { font-size: 1.5em; }
  .progress { color: #555; font-size: 0.95em; margin-bottom: 6px; }
  .bar { height: 6px; background: #ddd; border-radius: 3px; margin-bottom: 14px; }
  .bar > div { height: 100%; background: #4a78c2; border-radius: 3px; }
  .question { font-size: 1.25em; font-weight: 600; margin: 10px 0 14px; min-height: 1.5em; }
  .panels { display: flex; gap: 40px; align-items: flex-start; flex-wrap: wrap; }
  .panel h2 { font-size: 1em; font-weight: 600; margin: 0 0 8px; color: #444; }
  .examples { display: grid; grid-template-columns: repeat(2, 112px); gap: 8px; }
  .choices { display: grid; grid-template-columns: repeat(3, 128px); gap: 10px; }
  .examples img { width: 112px; height: 112px; border: 1px solid #bbb; background: #fff; }
  .choices button { padding: 0; border: 5px solid transparent; border-radius: 6px; background: #fff;
                    cursor: pointer; width: 128px; height: 128px; position: relative; }
  .choices button img { width: 118px; height: 118px; display: block; }
  img { image-rendering: pixelated; }
  .choices button:not(:disabled):hover { border-color: #9ab; }
  .choices button:disabled { cursor: default; }
  .choices button.taken { border: 5px dashed #777; opacity: 0.45; }
  .choices button.correct { border: 5px solid #1e9e3a; opacity: 1; }
  .choices button.wrong { border: 5px solid #d0262b; }
  .feedback { margin: 16px 0 8px; font-size: 1.1em; min-height: 1.4em; }
  .feedback.good { color: #1e7e32; }
  .feedback.bad { color: #b3201f; }
  button.action { font-size: 1.05em; padding: 10px 22px; border-radius: 6px; border: 0; background: #2f5fa8;
                  color: #fff; cursor: pointer; }
  button.action[hidden] { display: none; }
  .code { font-family: ui-monospace, monospace; font-size: 1.6em; background: #fff; padding: 8px 14px;
          border: 1px solid #bbb; display: inline-block; letter-spacing: 0.05em; }
  .note { color: #555; }
</style>
</head>
<body>
<main id="app" data-screen="loading">
  <p>Loading…</p>
</main>
<noscript>This study needs JavaScript.</noscript>
<script>
'use strict';
const app = document.getElementById('app');
const query = new URLSearchParams(location.search);
let participant = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

function show(screen, ...children) {
  app.replaceChildren(...children);
  app.dataset.screen = screen;
  delete app.dataset.trial;
  delete app.dataset.question;
  delete app.dataset.phase;
}

function fail(message) {
  show('error', el('h1', { text: 'Something went wrong' }), el('p', { text: message }),
       el('p', { class: 'note', text: 'Reloading the page continues where you left off.' }));
  app.dataset.error = message;
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw { status: 0, message: 'the server cannot be reached; please try again in a moment' };
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw { status: res.status, message: data.error || ('HTTP ' + res.status) };
  return data;
}

function render(state) {
  if (state.screen === 'consent') return renderConsent(state);
  if (state.screen === 'trial') return renderTrial(state);
  if (state.screen === 'complete') return renderComplete(state);
  fail('unknown screen ' + state.screen);
}

function renderConsent(state) {
  const start = el('button', { class: 'action', 'data-action': 'start', text: 'I agree — start' });
  show('consent',
       el('h1', { text: 'Welcome' }),
       el('p', { text: 'In this study you see small images that a computer vision model responds to. In each ' +
                       'round, six example images on the left all strongly excite one feature of the model. ' +
                       'On the right are nine more images.' }),
       el('p', { text: 'First question: which of the nine is another image that strongly excites the feature ' +
                       '(the most exciting image, MEI)? Second question: which of the remaining images most ' +
                       'strongly inhibits it (the most inhibiting image, MII)? After each answer you see the ' +
                       'right one outlined in green; a wrong choice is outlined in red.' }),
       el('p', { text: 'There are several rounds. Please answer as well as you can; there is no time limit, ' +
                       'but your response times are recorded.' }),
       el('p', { text: 'Your answers, response times and the ids in your link are stored for research and ' +
                       'nothing else. Taking part is voluntary: you may stop at any time by closing the page. ' +
                       'Reloading the page continues where you left off.' }),
       start);
  start.onclick = async () => {
    start.disabled = true;
    try {
      render(await api('POST', 'api/start', { participant }));
    } catch (e) {
      fail(e.message);
    }
  };
}

async function renderTrial(state) {
  const t = state.trial;
  const questionText = t.question === 1 ? 'Which image is the new MEI (most exciting)?'
                                        : 'Which image is the MII (most inhibiting)?';
  const examples = el('div', { class: 'examples' },
                      ...t.examples.map((id, i) => el('img', { src: 'crops/' + id + '.png', alt: 'example ' + (i + 1),
                                                              'data-example': String(i) })));
  const buttons = t.choices.map((id, i) => {
    const b = el('button', { 'data-choice': String(i), disabled: true, title: 'choice ' + (i + 1) },
                 el('img', { src: 'crops/' + id + '.png', alt: 'choice ' + (i + 1) }));
    if (i === t.disabled) b.classList.add('taken');
    return b;
  });
  const feedback = el('div', { class: 'feedback', 'data-feedback': '' });
  const next = el('button', { class: 'action', 'data-action': 'next', hidden: true, text: 'Continue' });
  show('trial',
       el('div', { class: 'progress', 'data-progress': '',
                   text: `Layer ${t.layer_number} of ${t.layers} · trial ${t.number_in_layer} of ` +
                         `${t.trials_in_layer} · question ${t.question} of 2` }),
       el('div', { class: 'bar' }, el('div', { style: `width: ${(100 * (t.number - 1)) / t.trials}%` })),
       el('div', { class: 'question', 'data-question-text': '', text: questionText }),
       el('div', { class: 'panels' },
          el('section', { class: 'panel' }, el('h2', { text: 'Examples (most exciting)' }), examples),
          el('section', { class: 'panel' }, el('h2', { text: 'Choices' }),
             el('div', { class: 'choices' }, ...buttons))),
       feedback, next);
  app.dataset.trial = String(t.id);
  app.dataset.question = String(t.question);
  app.dataset.phase = 'loading';
  // The response time runs from the moment every picture is on screen.
  await Promise.all([...app.querySelectorAll('img')].map((im) => im.decode().catch(() => {})));
  await new Promise((r) => requestAnimationFrame(() => r()));
  if (app.dataset.trial !== String(t.id) || app.dataset.question !== String(t.question)) return;
  const shownAt = performance.now();
  buttons.forEach((b, i) => { b.disabled = i === t.disabled; });
  app.dataset.phase = 'question';
  let answered = false;
  buttons.forEach((b, i) => {
    b.onclick = async () => {
      if (answered || i === t.disabled) return;
      answered = true;
      const rt_ms = Math.round(performance.now() - shownAt);
      buttons.forEach((x) => { x.disabled = true; });
      app.dataset.phase = 'busy';
      let result;
      try {
        result = await api('POST', 'api/answer', { participant, trial: t.id, question: t.question, choice: i, rt_ms });
      } catch (e) {
        // Answered elsewhere (another tab) or out of turn: show where the participant is now.
        if (e.status === 409) return api('GET', 'api/state?participant=' + encodeURIComponent(participant))
                                        .then(render, (e2) => fail(e2.message));
        answered = false;
        buttons.forEach((x, k) => { x.disabled = k === t.disabled; });
        app.dataset.phase = 'question';
        feedback.className = 'feedback bad';
        feedback.textContent = 'Your answer was not saved (' + e.message + '). Please click again.';
        return;
      }
      buttons[result.answer].classList.add('correct');
      if (!result.correct) b.classList.add('wrong');
      const what = t.question === 1 ? 'MEI' : 'MII';
      feedback.className = 'feedback ' + (result.correct ? 'good' : 'bad');
      feedback.textContent = result.correct ? 'Correct!'
                                            : `Not this one: the ${what} is the image outlined in green.`;
      feedback.dataset.correct = result.correct ? '1' : '0';
      app.dataset.phase = 'feedback';
      next.hidden = false;
      next.onclick = () => render(result.state);
    };
  });
}

function renderComplete(state) {
  const c = state.completion || {};
  const parts = [el('h1', { text: 'Thank you!' }), el('p', { text: 'You have completed the study.' })];
  if (c.code) {
    parts.push(el('p', { text: 'Your completion code:' }),
               el('p', {}, el('span', { class: 'code', 'data-completion-code': '', text: c.code })));
  }
  if (c.url) {
    parts.push(el('p', {}, el('a', { href: c.url, 'data-completion-link': '',
                                     text: 'Return to the study site to confirm your completion' })));
  }
  show('complete', ...parts);
}

async function main() {
  const body = {};
  for (const k of ['PROLIFIC_PID', 'STUDY_ID', 'SESSION_ID', 'participant']) {
    if (query.get(k)) body[k] = query.get(k);
  }
  if (!body.PROLIFIC_PID && !body.participant) {
    return fail('This link has no participant id. Please open the study through the link you were given.');
  }
  try {
    const state = await api('POST', 'api/join', body);
    participant = state.participant;
    render(state);
  } catch (e) {
    fail(e.message);
  }
}
main();
</script>
</body>
</html>
)page";

}  // namespace

const std::string& participant_page() {
  static const std::string page = kParticipantPageHtml;
  return page;
}

}  // namespace tension::trials
