/**
 * A small semver range check for plugins' `kernel` field, so a plugin built
 * for another kernel fails at start with a clear error rather than at its
 * first hook. Supported: `1.2.3`, `=1.2.3`, `>1.2`, `>=1.2.3`, `<2`, `<=2.1`,
 * `^0.1.0`, `~1.4`, `1.x`, `*`, comparators joined by spaces (all must hold)
 * and alternatives joined by `||`. Prerelease tags are not supported.
 */
export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  if (!v) return false;
  return range.split("||").some((alternative) => {
    const comparators = alternative.trim().split(/\s+/u).filter(Boolean);
    return comparators.length === 0 || comparators.every((comparator) => holds(v, comparator));
  });
}

/** Is `range` one `satisfies` understands? */
export function isValidRange(range: string): boolean {
  return range.split("||").every((alternative) => alternative.trim().split(/\s+/u).filter(Boolean).every((c) => COMPARATOR.test(c)));
}

type Version = [number, number, number];

const COMPARATOR = /^(\^|~|>=|<=|>|<|=)?v?(\*|x|\d+)(?:\.(\*|x|\d+))?(?:\.(\*|x|\d+))?$/u;

function parse(version: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/u.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function holds(v: Version, comparator: string): boolean {
  const match = COMPARATOR.exec(comparator);
  if (!match) return false;
  const [, op = "", ...parts] = match;
  const given = parts.map((part) => (part === undefined || part === "*" || part === "x" ? undefined : Number(part)));
  const known = given.findIndex((part) => part === undefined);
  const precision = known === -1 ? 3 : known;
  const base: Version = [given[0] ?? 0, given[1] ?? 0, given[2] ?? 0];
  if (precision === 0) return true; // `*`, `x`
  switch (op) {
    case ">":
      return precision === 3 ? compare(v, base) > 0 : compare(v, bump(base, precision - 1)) >= 0;
    case ">=":
      return compare(v, base) >= 0;
    case "<":
      return compare(v, base) < 0;
    case "<=":
      return precision === 3 ? compare(v, base) <= 0 : compare(v, bump(base, precision - 1)) < 0;
    case "^": {
      // Changes that do not modify the left-most non-zero part.
      const at = base[0] !== 0 || precision === 1 ? 0 : base[1] !== 0 || precision === 2 ? 1 : 2;
      return compare(v, base) >= 0 && compare(v, bump(base, at)) < 0;
    }
    case "~":
      return compare(v, base) >= 0 && compare(v, bump(base, Math.min(precision - 1, 1))) < 0;
    default:
      // `1.2.3`, `=1.2`, `1.x`: equal in the parts given.
      return compare(v, base) >= 0 && (precision === 3 ? compare(v, base) === 0 : compare(v, bump(base, precision - 1)) < 0);
  }
}

function bump(v: Version, at: number): Version {
  const next: Version = [...v];
  next[at]! += 1;
  for (let i = at + 1; i < 3; i++) next[i] = 0;
  return next;
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
