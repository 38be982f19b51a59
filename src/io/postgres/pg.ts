// pipekit's one import of pg: loaded with src/io/postgres/pg-navigator.ts before it (why is there).
import { returnNavigator } from './pg-navigator.ts';
import pg from 'pg';

returnNavigator();

export default pg;
