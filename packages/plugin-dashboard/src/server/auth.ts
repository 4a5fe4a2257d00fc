// Who may talk to the dashboard: the holder of this start's secret (from the
// printed URL), exchanged once for a session cookie; requests only for our own
// Host (DNS rebinding) and from our own Origin (cross-site); actions only with
// the session's CSRF token. The secret itself never becomes the cookie.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import os from "node:os";
import { WILDCARD_HOSTS } from "../options.js";


export interface Session {
  readonly id: string;
  readonly csrf: string;
}

/** Sessions remembered per start; the oldest is forgotten beyond this (each login makes one). */
const SESSION_LIMIT = 1000;

export class Auth {
  /** 32 random bytes, base64url: the `?token=` of the login URL. Never log it. */
  readonly secret = randomBytes(32).toString("base64url");
  private readonly sessions = new Map<string, Session>();
  private hosts = new Set<string>();

  /** The cookie's name carries the port: cookies are not port-scoped, so two dashboards on one host must not overwrite each other's. */
  cookieName = "tc_dashboard";

  /** The port listened on, for messages that tell where to open the page. */
  port: number | undefined;

  /**
   * Once listening: the Host values we answer to. Loopback names and the
   * configured host; for a wildcard host (0.0.0.0, ::, allowRemote) also this
   * machine's own addresses and name, which is what a remote browser sends.
   * Any other name (an attacker's DNS pointing at us) stays refused.
   */
  listening(port: number, configuredHost: string): void {
    this.port = port;
    const names = ["127.0.0.1", "localhost", "::1", configuredHost];
    if (WILDCARD_HOSTS.has(configuredHost)) {
      names.push(os.hostname());
      for (const addresses of Object.values(os.networkInterfaces())) for (const address of addresses ?? []) names.push(address.address);
    }
    this.hosts = new Set(names.map((name) => `${name.includes(":") && !name.startsWith("[") ? `[${name}]` : name}:${port}`.toLowerCase()));
    this.cookieName = `tc_dashboard_${port}`;
  }

  /** Timing-safe: compares digests, so neither the content nor the length of the secret leaks through timing. */
  secretMatches(candidate: string | undefined): boolean {
    if (candidate === undefined) return false;
    return timingSafeEqual(digest(candidate), digest(this.secret));
  }

  login(): Session {
    const session: Session = { id: randomBytes(32).toString("base64url"), csrf: randomBytes(32).toString("base64url") };
    this.sessions.set(session.id, session);
    if (this.sessions.size > SESSION_LIMIT) this.sessions.delete(this.sessions.keys().next().value!);
    return session;
  }

  /** The session named by the request's cookie, if this start made it. */
  session(cookieHeader: string | undefined): Session | undefined {
    const id = readCookie(cookieHeader, this.cookieName);
    return id === undefined ? undefined : this.sessions.get(id);
  }

  setCookie(session: Session): string {
    return `${this.cookieName}=${session.id}; HttpOnly; SameSite=Strict; Path=/`;
  }

  csrfMatches(session: Session, header: string | undefined): boolean {
    return header !== undefined && timingSafeEqual(digest(header), digest(session.csrf));
  }

  hostAllowed(host: string | undefined): boolean {
    return host !== undefined && this.hosts.has(host.toLowerCase());
  }

  /** No Origin (same-origin GETs, non-browser clients) passes; one that is sent must be this page's. */
  originAllowed(origin: string | undefined, host: string | undefined): boolean {
    return origin === undefined || (host !== undefined && origin.toLowerCase() === `http://${host.toLowerCase()}`);
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
