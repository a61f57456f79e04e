// Mounting widget instances: config defaults filled from the schema, and a
// widget that throws replaced by an error box so its neighbours keep working.

import type { Runtime, WidgetDefinition } from './plugins.ts'

/** A widget instance on the page. */
export interface MountedWidget {
  element: HTMLElement
  unmount(): void
}

function defaults(widget: WidgetDefinition): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const [field, schema] of Object.entries(widget.config)) {
    if (schema.default !== undefined) values[field] = schema.default
  }
  return values
}

function showError(box: HTMLElement, name: string, error: unknown): void {
  const doc = box.ownerDocument
  box.replaceChildren()
  box.classList.add('raclette-widget-failed')
  const alert = doc.createElement('div')
  alert.className = 'raclette-widget-error'
  alert.setAttribute('role', 'alert')
  const title = doc.createElement('strong')
  title.textContent = `Widget ${name} failed`
  const detail = doc.createElement('pre')
  detail.textContent = error instanceof Error ? error.message : String(error)
  alert.append(title, detail)
  box.append(alert)
  console.error(`[raclette] widget ${name} failed:`, error)
}

/**
 * Mounts widget `id` of `pluginKey` into a new box appended to `parent`,
 * with `config` over the schema defaults. Never throws: failures show in the box.
 */
export function mountWidget(
  rt: Runtime,
  parent: HTMLElement,
  pluginKey: string,
  id: string,
  config: Record<string, unknown> = {},
): MountedWidget {
  const doc = parent.ownerDocument
  const name = `${pluginKey}/${id}`
  const box = doc.createElement('div')
  box.className = 'raclette-widget'
  box.dataset.widget = name
  parent.append(box)
  let cleanup: (() => void) | undefined
  let unmounted = false
  const mounted: MountedWidget = {
    element: box,
    unmount() {
      unmounted = true
      try {
        cleanup?.()
      } catch (error) {
        console.error(`[raclette] unmounting widget ${name} failed:`, error)
      }
      box.remove()
    },
  }
  const widget = rt.widget(pluginKey, id)
  if (!widget) {
    showError(box, name, new Error(`no widget "${id}" in plugin ${pluginKey} (is the plugin enabled?)`))
    return mounted
  }
  const header = doc.createElement('header')
  header.className = 'raclette-widget-title'
  // A plugin may translate its widgets' titles under `widgets.<id>.title`.
  header.textContent = rt.i18n.translateOr(pluginKey, `widgets.${id}.title`, widget.details.title)
  if (widget.details.color) box.style.setProperty('--raclette-widget-color', widget.details.color)
  const body = doc.createElement('div')
  body.className = 'raclette-widget-body'
  box.append(header, body)
  const run = async () => {
    const mount = await widget.load()
    const result = await mount(body, {
      pluginKey,
      widgetId: id,
      config: { ...defaults(widget), ...config },
      api: rt.usePluginApi(pluginKey),
    })
    if (typeof result === 'function') {
      if (unmounted) result()
      else cleanup = result
    }
  }
  run().catch((error) => {
    if (!unmounted) showError(box, name, error)
  })
  return mounted
}
