// Empty parts of a /sync answer as shared, frozen values: most woken answers have nothing in
// these sections, and a value made once costs neither an allocation per answer nor a deep
// comparison when answers are matched (sharedAnswers.ts compares by identity first).
export const NO_EVENTS = Object.freeze({ events: Object.freeze([]) });
export const NO_DEVICE_LIST_CHANGES = Object.freeze({ changed: Object.freeze([]), left: Object.freeze([]) });
export const NO_COUNTS = Object.freeze({});
