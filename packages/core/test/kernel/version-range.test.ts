import { expect, test } from "vitest";
import { isValidRange, satisfies } from "../../src/kernel/version-range.js";

test.each([
  ["0.1.0", "^0.1.0", true],
  ["0.1.9", "^0.1.0", true],
  ["0.2.0", "^0.1.0", false],
  ["1.4.2", "^1.2", true],
  ["2.0.0", "^1.2", false],
  ["1.2.9", "~1.2.3", true],
  ["1.3.0", "~1.2.3", false],
  ["0.1.0", ">=0.1 <1", true],
  ["1.0.0", ">=0.1 <1", false],
  ["0.1.0", ">0.1", false],
  ["0.2.0", ">0.1", true],
  ["1.9.9", "<=1", true],
  ["2.0.0", "<=1", false],
  ["1.5.0", "1.x", true],
  ["2.0.0", "1.x", false],
  ["3.1.4", "*", true],
  ["0.1.0", "0.1.0", true],
  ["0.1.1", "=0.1.0", false],
  ["2.1.0", "^1.0.0 || ^2.0.0", true],
])("%s satisfies %s: %s", (version, range, expected) => {
  expect(satisfies(version, range)).toBe(expected);
});

test("ranges it cannot read are invalid", () => {
  expect(isValidRange("latest please")).toBe(false);
  expect(isValidRange(">=0.1 <1")).toBe(true);
  expect(isValidRange("^0.1.0 || 2.x")).toBe(true);
});
