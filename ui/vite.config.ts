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
    environment: "node",
    include: ["src/**/*.test.ts"],
    // The chat's components are tested through their pure models; Solid's server build is not needed.
    server: { deps: { inline: [/solid-js/] } },
  },
});
