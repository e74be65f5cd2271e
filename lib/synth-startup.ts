/**
 * What the CDK app sets before it loads aws-cdk-lib (imported first, for its side effects, by
 * bin/xspot-cdk.ts): V8 flags for the template validation engine and the garbage collector, then the
 * compile cache (which V8 keys by those flags, so it comes after them).
 */
import * as v8 from 'node:v8';
import { enableCompileCache } from './compile-cache';

// aws-cdk-lib checks the templates with a WebAssembly engine (about 9 MB) that runs once per synth.
// By default V8 also recompiles its hot functions with the optimizing compiler on background threads,
// and the process waits for that work before it exits: seconds of CPU that this one run never uses.
// The baseline compiler's code runs the same checks with the same results. Set before the engine loads.
v8.setFlagsFromString('--no-wasm-tier-up');
v8.setFlagsFromString('--no-wasm-dynamic-tiering');

// The same engine grows its WebAssembly memory in many small steps while it starts; V8 counts each
// grown memory as new external memory and starts a garbage-collection marking cycle for it (about 90
// per synth of this app), and by default each cycle also puts concurrent markers on helper threads.
// Over this app's 30-40 MB heap those markers burned about 4 s of CPU per synth on two cores, taking
// the core the main thread needs (user CPU 7.9 s against 3.6 s without them, wall 5.8 s against
// 4.2 s). Without concurrent marking V8 marks incrementally on the main thread (parallel marking in
// the final pause stays on). Set first, before any marking cycle has started, so the heap is in the
// state `node --no-concurrent-marking` gives it from the start.
v8.setFlagsFromString('--no-concurrent-marking');

enableCompileCache();
