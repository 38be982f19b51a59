#!/usr/bin/env node
// The CLI, from dist/ when it is built and current, else from the sources (see launch.js).
// User blocks written in TypeScript load through tsx either way, only when a pipeline has them.
import { launch } from './launch.js';

await launch('src/cli/main');
