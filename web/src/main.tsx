import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import './index.css';
import './theme-dark.css';
import { startTheme } from './app/theme';

startTheme();

// The app shell only (see public/sw.js); not in development, where Vite serves modules live.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
      /* unsupported or refused (private mode): the app works without it */
    });
  });
}

// A tab opened before an upgrade asks for the old build's page bundles, which are gone (404):
// load the new build once instead of leaving a page that cannot open. Once a minute at most, so
// a bundle missing for another reason cannot make the tab reload over and over.
window.addEventListener('vite:preloadError', (event) => {
  const last = Number(sessionStorage.getItem('cv-reloaded-for-bundle') ?? 0);
  if (Date.now() - last < 60_000) return;
  event.preventDefault();
  sessionStorage.setItem('cv-reloaded-for-bundle', String(Date.now()));
  window.location.reload();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
