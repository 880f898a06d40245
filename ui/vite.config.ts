import { defineConfig } from "vitest/config";
import solid from "vite-plugin-solid";

// Tauri loads the files from its own protocol, so every URL must be relative; WebKitGTK is the
// oldest engine the app runs on, hence the Safari 15 target.
export default defineConfig({
  // Solid compiles JSX to direct DOM updates (no virtual DOM); only .tsx files go through it.
  plugins: [solid()],
  base: "./",
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: {
    outDir: "dist",
    target: "safari15",
    emptyOutDir: true,
    sourcemap: false,
  },
  test: {
    // Pure modules run in Node; a view test asks for a DOM itself (`// @vitest-environment happy-dom`, e.g.
    // chatView.test.ts mounting the real ChatView over a fake backend).
    environment: "node",
    include: ["src/**/*.test.ts"],
    // Solid's server build is not needed.
    server: { deps: { inline: [/solid-js/] } },
  },
});
