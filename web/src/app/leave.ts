/**
 * Full-page navigations away from the single-page app (OAuth redirects through the server).
 * An object, so component tests can replace `assign` without touching jsdom's `location`.
 */
export const leave = {
  assign(url: string): void {
    window.location.assign(url);
  },
};
