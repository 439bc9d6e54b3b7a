// Public API of the authorisation rules.
export type { AuthOptions, AuthResult, StateLookup } from './types.js';
export { checkEventAuth } from './checkAuth.js';
export { checkAuthEvents, type AuthEventsOptions } from './checkAuthEvents.js';
export { authEventTypesFor } from './authEventsSelection.js';
export { stateFromEvents } from './stateLookup.js';
export { membershipOf, membershipIn, joinRuleOf, type Membership } from './membership.js';
export { roomCreators, originalCreator } from './creators.js';
export {
  NAMED_LEVELS,
  DEFAULT_LEVELS,
  DEFAULT_NOTIFICATION_LEVELS,
  CREATOR_LEVEL_WITHOUT_POWER_LEVELS,
  parsePowerLevelValue,
  parsePowerLevels,
  powerLevelsOf,
  userPowerLevel,
  requiredPowerForEvent,
  canSendEvent,
  notificationPowerLevel,
  type NamedLevel,
  type PowerLevels,
} from './powerLevels.js';
export { thirdPartyPublicKeys, verifyThirdPartySigned } from './thirdPartyInvite.js';
export { ruleNumber } from './ruleNumbers.js';
