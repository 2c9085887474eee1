import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api';

export interface PortalContext {
  api: Api;
  /** A read-only session: no control that changes anything is shown. */
  readOnly: boolean;
  /** Says something to screen readers and on screen (a polite live region). */
  announce: (message: string) => void;
}

export const Portal = createContext<PortalContext | null>(null);

export function usePortal(): PortalContext {
  const value = useContext(Portal);
  if (!value) throw new Error('usePortal outside <Portal.Provider>');
  return value;
}
