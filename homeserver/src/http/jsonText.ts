// A JSON body already encoded: the /sync answers one message wakes are mostly the same text
// (sync/sharedAnswers.ts), encoded once and sent as it is.
export class JsonText {
  constructor(readonly text: string) {}

  /** For a serialiser that does not know this class (express's res.json): the value itself. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
