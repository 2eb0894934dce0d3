/**
 * The error every layer throws for input it refuses (a file, a manifest, a run folder, a checkpoint):
 * the message says what is wrong and what to do. Commands map it to exit code 4 (bad input data);
 * the page shows the message and keeps working.
 */
export class BadInputError extends Error {
  readonly exitCode = 4;
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}
