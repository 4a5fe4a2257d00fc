// The dashboard plugin: see README.md.
export {};
