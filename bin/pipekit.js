#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so that user blocks (.ts files) load
// the same way the engine does, with no build step between editing and running.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
