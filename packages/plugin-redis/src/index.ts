// The Redis plugin: see README.md.
export {};
