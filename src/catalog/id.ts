/**
 * Backup ids: the UTC start time, `20261123T021500.123Z`. They sort by time as strings, are
 * safe file names on every destination, and are the same on all destinations of one run.
 *
 * @module
 */

const ID_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/;

export function newBackupId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, "");
}

export function isBackupId(text: string): boolean {
  return ID_PATTERN.test(text);
}

/** The time a backup id stands for. */
export function timeOfId(id: string): Date {
  const m = ID_PATTERN.exec(id);
  if (!m) throw new Error(`not a backup id: ${id}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]));
}
