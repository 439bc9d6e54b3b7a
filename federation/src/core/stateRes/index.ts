// Public API of state resolution (room versions 1–12).
export { resolveState, resolveStateYielding, DEFAULT_YIELD_EVERY, type StateResolutionInput } from './resolveState.js';
export { MissingEventError, type GetEvent } from './eventGraph.js';
export { isPowerEvent } from './powerEvents.js';
