// Bad options are one clear error at start naming the key, the value (credentials cut) and the fix.
import { expect, test } from "vitest";
import { notify, type NotifyOptions } from "../src/index.js";

const SECRET = "options-secret-0123456789";

function errorOf(options: unknown): { code: string; message: string } {
  try {
    notify(options as NotifyOptions);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error(`notify(${JSON.stringify(options)}) did not throw`);
}

test("a non-HTTPS URL to another host is refused, naming the key and the value; loopback may be plain HTTP", () => {
  const error = errorOf({ webhook: { url: "http://example.com/hooks/abc123", secret: SECRET } });
  expect(error.code).toBe("TC_PLUGIN_OPTIONS_INVALID");
  expect(error.message).toContain('Invalid options for plugin "notify"');
  expect(error.message).toContain("webhook.url: an https:// URL (http:// only to a loopback host: localhost, 127.0.0.1, [::1])");
  expect(error.message).toContain('got "http://example.com/hooks/…"');
  expect(error.message).not.toContain("abc123");
  expect(error.message).toContain("Fix the options passed to notify() in your config.");
  expect(errorOf({ webhook: { url: "not a url", secret: SECRET } }).message).toContain("webhook.url");
  for (const url of ["https://example.com/hook", "http://localhost:8080/hook", "http://127.0.0.1:9/x", "http://[::1]:9/x"]) {
    expect(() => notify({ webhook: { url, secret: SECRET } })).not.toThrow();
  }
});

test("a wrong Slack or Discord URL is a clear error without the URL's token", () => {
  const slack = errorOf({ slack: { webhookUrl: "https://discord.com/api/webhooks/123/discordsecret" } });
  expect(slack.message).toContain("slack.webhookUrl: a Slack incoming-webhook URL, https://hooks.slack.com/services/T…/B…/…");
  expect(slack.message).toContain('got "https://discord.com/api/…"');
  expect(slack.message).not.toContain("discordsecret");
  expect(errorOf({ slack: { webhookUrl: "https://hooks.slack.com/triggers/T1/123/abc" } }).message).toContain("slack.webhookUrl");
  expect(errorOf({ slack: { webhookUrl: "http://hooks.slack.com/services/T1/B1/abc" } }).message).toContain("slack.webhookUrl");
  const discord = errorOf({ discord: { webhookUrl: "https://hooks.slack.com/services/T1/B1/slacksecret" } });
  expect(discord.message).toContain("discord.webhookUrl: a Discord webhook URL, https://discord.com/api/webhooks/<id>/<token>");
  expect(discord.message).not.toContain("slacksecret");
  expect(() => notify({ slack: { webhookUrl: "https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXXXXXX" } })).not.toThrow();
  expect(() => notify({ discord: { webhookUrl: "https://discord.com/api/webhooks/1234567890/abc-DEF_ghi" } })).not.toThrow();
  expect(() => notify({ discord: { webhookUrl: "http://127.0.0.1:9/anything" }, slack: { webhookUrl: "http://localhost:9/x" } })).not.toThrow();
});

test("a short secret, no endpoint, a bad kind, bad retries and unknown keys are each named", () => {
  const short = errorOf({ webhook: { url: "https://example.com/h", secret: "tiny-secret" } });
  expect(short.message).toContain("webhook.secret: expected at least 16 characters");
  expect(short.message).not.toContain("tiny-secret");
  expect(errorOf({ on: ["waiting"] }).message).toContain("no endpoint: give at least one of webhook: { url, secret }, slack: { webhookUrl }, discord: { webhookUrl }");
  expect(errorOf({ slack: { webhookUrl: "http://localhost:9/x" }, on: ["Waiting"] }).message).toMatch(/on\[0\]: .*"waiting" or "budget".*got "Waiting"/u);
  expect(errorOf({ slack: { webhookUrl: "http://localhost:9/x" }, on: [] }).message).toContain("on: expected at least 1 item");
  expect(errorOf({ slack: { webhookUrl: "http://localhost:9/x" }, retry: { attempts: -1 } }).message).toContain("retry.attempts: expected a number >= 1, got -1");
  expect(errorOf({ slack: { webhookUrl: "http://localhost:9/x" }, retry: { initialDelayMs: "1s" } }).message).toContain("retry.initialDelayMs: expected a number, got \"1s\"");
  expect(errorOf({ slack: { webhookUrl: "http://localhost:9/x" }, webhooks: {} }).message).toContain('webhooks: unknown key; allowed keys: webhook, slack, discord, on, retry, timeoutMs, failureLogIntervalMs (did you mean "webhook"?)');
});

test("credentials anywhere in the options are cut: under a misspelt key, in the wrong shape, not a string; no endpoint names the keys only", () => {
  const url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
  const misspelt = errorOf({ webhookUrl: url });
  expect(misspelt.message).toContain("no endpoint: give at least one of webhook: { url, secret }, slack: { webhookUrl }, discord: { webhookUrl }, got an object with keys webhookUrl");
  expect(misspelt.message).toContain('webhookUrl: unknown key');
  const shapes: unknown[] = [
    { webhookUrl: url },
    { slack: url },
    { discord: [url] },
    { webhook: { url: "https://example.com/h", secret: 1234567890123456789 } },
    { webhook: { url: "https://example.com/h", secret: { value: "XXXXSECRET-0123456789" } } },
    { webhook: { url: "https://example.com/h", key: "XXXXSECRET-0123456789" } },
    { slack: { url } },
    { discord: { webhookUrl: "discord.com/api/webhooks/1/XXXXSECRET" } },
    url,
  ];
  for (const options of shapes) {
    const { message } = errorOf(options);
    expect(message, JSON.stringify(options)).not.toMatch(/XXXXSECRET|1234567890123456789/u);
  }
  expect(errorOf({ slack: url }).message).toContain('slack: expected an object, got "https://hooks.slack.com/services/…"');
  expect(errorOf({ webhook: { url: "https://example.com/h", secret: 1234567890123456789 } }).message).toContain('webhook.secret: expected a string, got "[a number, not shown]"');
});
