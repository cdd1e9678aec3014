// Validate Adaptive Cards with the official `adaptivecards` library, the way a client parses them.
//
// Usage: node tests/support/validate_cards.cjs cards.json
//   cards.json: [{"name": "...", "card": {...AdaptiveCard...}}, ...]
// Prints JSON: [{"name": "...", "problems": ["..."]}, ...] (one entry per card, problems empty
// when the card is valid) and exits 0; exits 2 on bad input. The caller decides what fails.
//
// Each card is parsed with a SerializationContext targeting schema 1.5 (the highest Teams renders
// everywhere): anything the library drops or does not know (unknown element or action types,
// properties newer than 1.5, bad values) is logged as a parse event; validateProperties() then
// reports structural failures (empty collections, too many actions, duplicate ids, missing
// labels...). A card is also refused if it declares a version above 1.5.
"use strict";

const fs = require("fs");
const path = require("path");

const repoRoot = path.resolve(__dirname, "..", "..");
const AC = require(path.join(repoRoot, "node_modules", "adaptivecards", "dist", "adaptivecards.js"));

const MAX_VERSION = AC.Versions.v1_5;

function eventText(event) {
  const name = AC.ValidationEvent[event.event] || String(event.event);
  const phase = AC.ValidationPhase ? AC.ValidationPhase[event.phase] : event.phase;
  return `${phase}/${name}: ${event.message}`;
}

function validateCard(source) {
  const problems = [];
  if (!source || typeof source !== "object" || source.type !== "AdaptiveCard") {
    return ["not an AdaptiveCard object"];
  }
  const declared = AC.Version.parse(source.version, new AC.SerializationContext(MAX_VERSION));
  if (!declared || !declared.isValid) {
    problems.push(`card version ${JSON.stringify(source.version)} is not a valid version`);
  } else if (declared.major > MAX_VERSION.major
             || (declared.major === MAX_VERSION.major && declared.minor > MAX_VERSION.minor)) {
    problems.push(`card version ${source.version} is above ${MAX_VERSION.toString()}`);
  }

  const context = new AC.SerializationContext(MAX_VERSION);
  const card = new AC.AdaptiveCard();
  card.parse(source, context);
  for (let i = 0; i < context.eventCount; i++) {
    problems.push(eventText(context.getEventAt(i)));
  }
  const results = card.validateProperties();
  for (const event of results.validationEvents) {
    problems.push(eventText(event));
  }
  return problems;
}

function main() {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node validate_cards.cjs cards.json");
    process.exit(2);
  }
  let items;
  try {
    items = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    console.error(`cannot read ${file}: ${error.message}`);
    process.exit(2);
  }
  if (!Array.isArray(items)) {
    console.error("expected a JSON array of {name, card}");
    process.exit(2);
  }
  const report = items.map((item) => ({ name: String(item.name), problems: validateCard(item.card) }));
  process.stdout.write(JSON.stringify(report));
}

main();
