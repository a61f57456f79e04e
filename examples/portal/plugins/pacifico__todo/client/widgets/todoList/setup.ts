// How the todo list widget presents itself and what can be configured.
export const details = {
  title: 'Todos',
  color: '#f6b73c',
  icon: 'check',
  images: [],
  description: 'A todo list: add, check off and delete todos.',
}

export const config = {
  showCompleted: { type: 'boolean', default: true, label: 'Show completed todos', editor: { inputType: 'switch' } },
  maxItems: { type: 'number', default: 50, label: 'Most todos shown', editor: { inputType: 'number', min: 1, max: 500, step: 1 } },
}
