// A JSON body already encoded: the /sync answers one message wakes are mostly the same text
// (sync/sharedAnswers.ts), encoded once and sent as it is.
export class JsonText {
  private encoded: Buffer | undefined;

  constructor(readonly text: string) {}

  /**
   * The text as UTF-8, made once: every answer that shares the text sends these bytes (a
   * string body would be joined to the headers and encoded again for each socket).
   */
  get bytes(): Buffer {
    return (this.encoded ??= Buffer.from(this.text, 'utf8'));
  }

  /** For a serialiser that does not know this class (express's res.json): the value itself. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
