// How the home widget presents itself.
export const details = {
  title: 'Home',
  color: '#4a7bd0',
  icon: 'home',
  images: [],
  description: "The app's pages and the plugins it is made of.",
}

export const config = {
  showPlugins: { type: 'boolean', default: true, label: 'List the plugins', editor: { inputType: 'switch' } },
}
