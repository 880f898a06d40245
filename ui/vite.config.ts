import { defineConfig } from "vitest/config";

// Tauri loads the files from its own protocol, so every URL must be relative; WebKitGTK is the
// oldest engine the app runs on, hence the Safari 15 target.
export default defineConfig({
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
  },
});
