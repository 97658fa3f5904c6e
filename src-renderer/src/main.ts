import { createApp } from 'vue';
import App from './App.vue';
import './style.css';
import { startState } from './state.ts';

startState();
// a thumbnail that cannot be shown (its photo gone or changed since the scan: the server answers 404 / 409) is marked,
// and the stylesheet shows an empty tile saying so instead of a broken image; a tile reused for another item that
// loads clears the mark (load and error do not bubble: caught on the way down)
for (const [type, broken] of [['error', true], ['load', false]] as const) {
  document.addEventListener(type, (e) => {
    const img = e.target;
    if (img instanceof HTMLImageElement && /(^|\/)thumb\//.test(img.getAttribute('src') ?? '')) img.toggleAttribute('data-broken', broken);
  }, true);
}
createApp(App).mount('#app');
