/** Reset times of usage limits, from the forms Claude Code and the API print them in. */
import { describe, expect, test } from "vitest";
import { isLimitNotice, parseLimitReset, saysLimitReached } from "../src/limit-reset.js";
import { limitInReply, limitOnScreen, limitReport } from "../src/limits.js";

const now = new Date("2026-12-05T10:00:00Z");

describe("parseLimitReset", () => {
  test("epoch seconds after the bar (Claude AI usage limit reached|<seconds>), also inside the API error line", () => {
    expect(parseLimitReset("Claude AI usage limit reached|1765000000", now)?.toISOString()).toBe(new Date(1765000000 * 1000).toISOString());
    expect(parseLimitReset("API Error: Request rejected (429) · Claude AI usage limit reached|1765000005", now)?.getTime()).toBe(1765000005 * 1000);
  });

  test("a wall-clock time in a named zone: the next such time there", () => {
    // 10:00 UTC is 11:00 in Berlin (winter): 3pm Berlin is 14:00 UTC today.
    expect(parseLimitReset("You've hit your limit · resets 3pm (Europe/Berlin)", now)?.toISOString()).toBe("2026-12-05T14:00:00.000Z");
    // 10:00 UTC is 16:00 in Dhaka (UTC+6): 1:30am there is 19:30 UTC today.
    expect(parseLimitReset("You've hit your limit · resets 1:30am (Asia/Dhaka)", now)?.toISOString()).toBe("2026-12-05T19:30:00.000Z");
    // 9am Chicago (UTC-6) is 15:00 UTC, still ahead.
    expect(parseLimitReset("Claude usage limit reached. Your limit will reset at 9am (America/Chicago).", now)?.toISOString()).toBe("2026-12-05T15:00:00.000Z");
  });

  test("a time already past today is tomorrow's", () => {
    // 8am New York (UTC-5) is 13:00 UTC: ahead. 4am New York is 09:00 UTC: past, so tomorrow.
    expect(parseLimitReset("resets 8am (America/New_York)", now)?.toISOString()).toBe("2026-12-05T13:00:00.000Z");
    expect(parseLimitReset("resets 4am (America/New_York)", now)?.toISOString()).toBe("2026-12-06T09:00:00.000Z");
    expect(parseLimitReset("resets 12am (UTC)", now)?.toISOString()).toBe("2026-12-06T00:00:00.000Z");
    expect(parseLimitReset("resets 12pm (UTC)", now)?.toISOString()).toBe("2026-12-05T12:00:00.000Z");
  });

  test("across a daylight-saving change the zone's offset at the reset counts", () => {
    // 2026-03-08 is the US spring-forward day: 3am EDT (UTC-4) on the 8th, asked at 06:30 UTC (01:30 EST).
    expect(parseLimitReset("resets 3am (America/New_York)", new Date("2026-03-08T06:30:00Z"))?.toISOString()).toBe("2026-03-08T07:00:00.000Z");
  });

  test("an ISO time and a relative one", () => {
    expect(parseLimitReset("limit resets at 2026-12-05T10:05:30Z", now)?.toISOString()).toBe("2026-12-05T10:05:30.000Z");
    expect(parseLimitReset("Rate limited. Try again in 30 seconds.", now)?.toISOString()).toBe("2026-12-05T10:00:30.000Z");
    expect(parseLimitReset("retry after 5 minutes", now)?.toISOString()).toBe("2026-12-05T10:05:00.000Z");
    expect(parseLimitReset("resets in 2h", now)?.toISOString()).toBe("2026-12-05T12:00:00.000Z");
  });

  test("no reset time: undefined (an unknown zone, no time, nothing)", () => {
    expect(parseLimitReset("API Error: Request rejected (429) · This request would exceed your account's rate limit. Please try again later.", now)).toBeUndefined();
    expect(parseLimitReset("resets 3pm (Mars/Olympus)", now)).toBeUndefined();
    expect(parseLimitReset(undefined, now)).toBeUndefined();
    expect(parseLimitReset("", now)).toBeUndefined();
  });
});

describe("what counts as a usage limit", () => {
  test("limit messages do, other failures do not", () => {
    expect(saysLimitReached("You've hit your limit · resets 3pm (Europe/Berlin)")).toBe(true);
    expect(saysLimitReached("Claude AI usage limit reached|1765000000")).toBe(true);
    expect(saysLimitReached("API Error: Request rejected (429) · This request would exceed your account's rate limit.")).toBe(true);
    expect(saysLimitReached("API Error: 500 Internal server error")).toBe(false);
    expect(saysLimitReached("Invalid API key · Please run /login")).toBe(false);
  });

  test("a StopFailure of kind rate_limit is a limit with or without a time; a server error is not", () => {
    expect(limitReport("rate_limit", [undefined, "API Error: Request rejected (429) · Claude AI usage limit reached|1765000000"])).toEqual({
      limitedUntil: new Date(1765000000 * 1000).toISOString(),
    });
    expect(limitReport("rate_limit", [undefined, "API Error: Request rejected (429) · Please try again later."])).toEqual({});
    expect(limitReport("server_error", [undefined, "API Error: 500 oops"])).toBeUndefined();
  });

  test("a Stop whose reply is Claude Code's limit notice is a limit; a reply that talks about limits is not", () => {
    expect(isLimitNotice("You've hit your limit · resets 3pm (Europe/Berlin)")).toBe(true);
    expect(isLimitNotice("Claude AI usage limit reached|1765000000")).toBe(true);
    expect(isLimitNotice("5-hour limit reached ∙ resets 1am")).toBe(true);
    expect(isLimitNotice("API Error: Request rejected (429) · This request would exceed your account's rate limit.")).toBe(true);
    expect(isLimitNotice("The API's rate limit is 50 requests per minute; you've hit your limit when it answers 429.")).toBe(false);
    expect(isLimitNotice(`You've hit your limit ${"x".repeat(500)}`)).toBe(false);
    expect(limitInReply("You've hit your limit · resets 3pm (Europe/Berlin)")).toMatchObject({ reason: "You've hit your limit · resets 3pm (Europe/Berlin)", limitedUntil: expect.any(String) });
    expect(limitInReply("Done: the rate limit handling is in place.")).toBeUndefined();
    expect(limitInReply(undefined)).toBeUndefined();
  });

  test("the screen: the last reply says it, not the prompt the user typed", () => {
    const screen = [
      "❯ what is my rate limit?",
      "",
      "● You've hit your limit · resets 3pm",
      "  (Europe/Berlin)",
      "",
      "───────────────",
      "❯ ",
    ].join("\n");
    expect(limitOnScreen(screen)).toMatchObject({ reason: "You've hit your limit · resets 3pm (Europe/Berlin)", limitedUntil: expect.any(String) });
    expect(limitOnScreen(["❯ you hit your limit · resets 3pm", "", "● Sure, here it is.", "", "❯ "].join("\n"))).toBeUndefined();
    // A reply about rate limits (the turn interrupted with Esc) is no limit.
    expect(limitOnScreen(["● The API's rate limit resets 3pm daily.", "", "❯ "].join("\n"))).toBeUndefined();
  });
});
