import { createApp } from 'vue';
import App from './App.vue';
import './style.css';
import { startState } from './state.ts';

startState();
createApp(App).mount('#app');
