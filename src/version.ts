import pkg from '../package.json';

/** Hookline's version, as in package.json (sent in `user-agent: hookline/<version>`). */
export const VERSION: string = pkg.version;
