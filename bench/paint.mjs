// Time from navigation to the first painted widget, in headless Chromium.
// Usage: node bench/paint.mjs URL [RUNS]; prints JSON.
//
// In the page, a MutationObserver notes when the first widget body gets
// content and when the todo list gets its first item; a requestAnimationFrame
// after that marks the paint. Times are from navigation start. "cold" is a
// fresh browser context (empty cache), "warm" a reload in the same context.

import { chromium } from 'playwright-core'

const [url, runsArg] = process.argv.slice(2)
const runs = Number(runsArg ?? 10)

const probe = () => {
  const marks = {}
  const mark = (name) => {
    if (marks[name] !== undefined) return
    marks[name] = -1
    requestAnimationFrame(() => (marks[name] = performance.now()))
  }
  new MutationObserver(() => {
    if (document.querySelector('.raclette-widget-body > *')) mark('widget')
    if (document.querySelector('li[data-todo-item]')) mark('list')
  }).observe(document, { childList: true, subtree: true })
  window.__paint = marks
}

async function measure(page, reload) {
  if (reload) await page.reload()
  else await page.goto(url)
  await page.waitForFunction(() => window.__paint.widget > 0 && window.__paint.list > 0)
  return page.evaluate(() => ({ ...window.__paint }))
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] })
const cold = []
const warm = []
// One unmeasured run starts the browser's own processes.
{
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.addInitScript(probe)
  await measure(page, false)
  await context.close()
}
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.addInitScript(probe)
  cold.push(await measure(page, false))
  warm.push(await measure(page, true))
  await context.close()
}
await browser.close()
console.log(
  JSON.stringify({
    runs,
    widgetColdMedian: median(cold.map((m) => m.widget)),
    widgetWarmMedian: median(warm.map((m) => m.widget)),
    listColdMedian: median(cold.map((m) => m.list)),
    widgetCold: cold.map((m) => Math.round(m.widget * 10) / 10),
  }),
)
