/**
 * The session token: from the link's fragment (`#token=…`) on first load, then from this tab's
 * sessionStorage, so a reload keeps working and the token leaves the address bar and the history
 * at once (fragments are never sent to a server, and the page sends no Referer).
 */
const STORAGE_KEY = 'hookline-portal-token';

export function takeToken(): string | null {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    const token = decodeURIComponent(match[1]!);
    try {
      sessionStorage.setItem(STORAGE_KEY, token);
    } catch {
      // Storage refused (private mode): the token lives in memory for this page only.
    }
    history.replaceState(null, '', `${location.pathname}#/subscriptions`);
    return token;
  }
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}
