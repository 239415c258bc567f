/** The attributes every person of the mini world has, one value each from a value set shared by the world. */
export const ATTRIBUTES = ["birthCity", "birthYear", "university", "field", "employer", "hobby"] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

export type Attributes = Readonly<Record<Attribute, string>>;

export function isAttribute(name: string): name is Attribute {
  return (ATTRIBUTES as readonly string[]).includes(name);
}

/** Fields of work: real words, so the values are ordinary frequent tokens (30). */
export const FIELDS = [
  "astronomy",
  "botany",
  "chemistry",
  "geology",
  "physics",
  "zoology",
  "medicine",
  "architecture",
  "linguistics",
  "history",
  "mathematics",
  "economics",
  "philosophy",
  "music",
  "sculpture",
  "painting",
  "law",
  "agriculture",
  "engineering",
  "navigation",
  "cartography",
  "metallurgy",
  "pharmacy",
  "surgery",
  "ecology",
  "meteorology",
  "oceanography",
  "poetry",
  "theatre",
  "archaeology",
] as const;

/** Hobbies: real words, disjoint from the fields (30). */
export const HOBBIES = [
  "chess",
  "sailing",
  "pottery",
  "archery",
  "fencing",
  "gardening",
  "fishing",
  "knitting",
  "rowing",
  "cycling",
  "hiking",
  "swimming",
  "climbing",
  "baking",
  "juggling",
  "birdwatching",
  "calligraphy",
  "origami",
  "skating",
  "skiing",
  "dancing",
  "singing",
  "woodworking",
  "beekeeping",
  "kayaking",
  "embroidery",
  "falconry",
  "riding",
  "photography",
  "weaving",
] as const;

/** Kinds of university, appended to an invented stem ("Korvath University"). */
export const UNIVERSITY_KINDS = ["University", "Institute", "College", "Academy"] as const;

/** Kinds of employer, appended to an invented stem ("Dravik Foundry"). */
export const EMPLOYER_KINDS = [
  "Works",
  "Mills",
  "Foundry",
  "Press",
  "Bank",
  "Company",
  "Brewery",
  "Shipyard",
  "Laboratories",
  "Trading",
] as const;
