// The todo list widget: lists todos through `$data.todo`, adds, checks off
// and soft-deletes them. Every instance shares the data store, so all
// widgets showing todos update after any change.

import type { WidgetContext } from '@raclette/client'
// The data API as generated from the server routes (`raclette dev` writes
// it): `$data.todo.*` typed with the fields of the server's `Todo`.
import type { PluginData } from '@raclette/types/plugin_pacifico__todo'

const STYLE = `
.todo-form { display: flex; gap: 0.5rem; }
.todo-form input { flex: 1; padding: 0.4rem 0.6rem; border: 1px solid #ccc; border-radius: 4px; font: inherit; }
.todo-form button, .todo-list button { padding: 0.35rem 0.8rem; border: 1px solid #ccc; border-radius: 4px; background: #fff; font: inherit; cursor: pointer; }
.todo-status { color: #6a737d; }
.todo-list { list-style: none; margin: 0; padding: 0; }
.todo-list li { display: flex; align-items: center; justify-content: space-between; padding: 0.35rem 0; border-bottom: 1px solid #eee; }
.todo-list label { display: flex; gap: 0.5rem; align-items: center; }
.todo-list li.todo-done span { text-decoration: line-through; color: #6a737d; }
`

function addStyle(doc: Document): void {
  if (doc.getElementById('pacifico-todo-style')) return
  const style = doc.createElement('style')
  style.id = 'pacifico-todo-style'
  style.textContent = STYLE
  doc.head.append(style)
}

export default function mount(el: HTMLElement, ctx: WidgetContext): () => void {
  const { $i18n } = ctx.api
  const $data = ctx.api.$data as PluginData
  addStyle(el.ownerDocument)
  const showCompleted = ctx.config.showCompleted !== false
  const maxItems = Number(ctx.config.maxItems ?? 50)
  const doc = el.ownerDocument

  const form = doc.createElement('form')
  form.className = 'todo-form'
  const input = doc.createElement('input')
  input.dataset.todoInput = ''
  input.required = true
  const add = doc.createElement('button')
  add.type = 'submit'
  add.dataset.todoAdd = ''
  form.append(input, add)
  const status = doc.createElement('p')
  status.className = 'todo-status'
  const list = doc.createElement('ul')
  list.className = 'todo-list'
  el.append(form, status, list)

  const all = $data.todo.getAll()
  const create = $data.todo.create()
  const check = $data.todo.updateCheckTask()
  const remove = $data.todo.delete()

  function render(): void {
    input.placeholder = $i18n.t('todo.placeholder')
    add.textContent = $i18n.t('todo.add')
    const todos = all.dataArr.filter((t) => showCompleted || !t.isCompleted).slice(0, maxItems)
    if (all.error) status.textContent = all.error.message
    else if (all.isLoading && todos.length === 0) status.textContent = $i18n.t('todo.loading')
    else if (todos.length === 0) status.textContent = $i18n.t('todo.empty')
    else status.textContent = $i18n.t('todo.open', { count: all.dataArr.filter((t) => !t.isCompleted).length })
    list.replaceChildren(
      ...todos.map((todo) => {
        const item = doc.createElement('li')
        item.dataset.todoItem = todo._id
        item.classList.toggle('todo-done', todo.isCompleted)
        const label = doc.createElement('label')
        const box = doc.createElement('input')
        box.type = 'checkbox'
        box.dataset.todoCheck = ''
        box.checked = todo.isCompleted
        box.addEventListener('change', () => {
          check.execute({ _id: todo._id, isCompleted: box.checked }).catch(() => render())
        })
        const name = doc.createElement('span')
        name.textContent = todo.name
        label.append(box, name)
        const del = doc.createElement('button')
        del.type = 'button'
        del.dataset.todoDelete = ''
        del.textContent = $i18n.t('todo.delete')
        del.addEventListener('click', () => {
          remove.execute({ _id: todo._id }).catch(() => render())
        })
        item.append(label, del)
        return item
      }),
    )
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const name = input.value.trim()
    if (name === '') return
    create
      .execute({ name })
      .then(() => {
        input.value = ''
      })
      .catch((error: Error) => {
        status.textContent = error.message
      })
  })

  const offAll = all.subscribe(render)
  const offLocale = $i18n.subscribe(render)
  render()
  all.execute().catch(() => render())

  return () => {
    offAll()
    offLocale()
  }
}
