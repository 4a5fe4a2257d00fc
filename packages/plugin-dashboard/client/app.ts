// The dashboard page's script (served from dist/client; no bundler, no CDN).
export {};
