// address.js: shipping addresses per country, mirroring functions/shop/addresses.py: which
// countries need a region (and what it is called), their postal code formats, and how an
// address is written on an envelope there.

export const COUNTRIES = [
  ["US", "United States"], ["CA", "Canada"], ["GB", "United Kingdom"], ["IE", "Ireland"], ["DE", "Germany"],
  ["FR", "France"], ["NL", "Netherlands"], ["BE", "Belgium"], ["ES", "Spain"], ["PT", "Portugal"], ["IT", "Italy"],
  ["AT", "Austria"], ["CH", "Switzerland"], ["DK", "Denmark"], ["SE", "Sweden"], ["NO", "Norway"], ["FI", "Finland"],
  ["PL", "Poland"], ["CZ", "Czechia"], ["AU", "Australia"], ["NZ", "New Zealand"], ["JP", "Japan"], ["CN", "China"],
  ["SG", "Singapore"], ["IN", "India"], ["BR", "Brazil"], ["MX", "Mexico"], ["ZA", "South Africa"],
];

// addresses.py REGION_REQUIRED and REGION_LABEL.
const REGION_LABEL = { US: "State", CA: "Province", AU: "State", BR: "State", MX: "State", IN: "State", JP: "Prefecture", CN: "Province" };

// addresses.py POSTAL_CODE_PATTERNS; other countries accept any code the API allows.
const POSTAL = {
  US: [/^\d{5}(-?\d{4})?$/, "5 or 9 digits, like 62704"],
  CA: [/^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$/, "like K1A 0B1"],
  GB: [/^([A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}|GIR ?0AA)$/i, "a full postcode, like SW1A 1AA"],
};
const POSTAL_LABEL = { US: "ZIP code", GB: "Postcode", IE: "Eircode" };

/** The region field's label where the country needs one, else null. */
export const regionLabel = (country) => REGION_LABEL[country] || null;
export const postalLabel = (country) => POSTAL_LABEL[country] || "Postal code";
export const countryName = (code) => COUNTRIES.find(([c]) => c === code)?.[1] || code;

/** Per-field messages for what the country's rules refuse ({} when fine). */
export function countryProblems(a) {
  const e = {};
  const region = regionLabel(a.country);
  if (region && !a.region) e.region = `Enter the ${region.toLowerCase()}.`;
  const rule = POSTAL[a.country];
  if (rule && a.postalCode && !rule[0].test(a.postalCode)) e.postalCode = `Enter a valid ${postalLabel(a.country)}: ${rule[1]}.`;
  if (a.phone && !/^\+?[0-9][0-9 ().-]{3,30}$/.test(a.phone)) e.phone = "Enter a phone number: digits, spaces, ( ) . - and an optional leading +.";
  return e;
}

/** The address as written on an envelope in its country (addresses.py lines()). */
export function addressLines(a) {
  const out = [a.name, a.line1, a.line2].filter(Boolean);
  const region = a.region || "";
  if (["US", "CA", "AU"].includes(a.country)) out.push(`${a.city}, ${[region, a.postalCode].filter(Boolean).join(" ")}`);
  else if (["GB", "IE"].includes(a.country)) out.push(a.city, region, (a.postalCode || "").toUpperCase());
  else out.push([a.postalCode, a.city].filter(Boolean).join(" "), region);
  out.push(countryName(a.country));
  if (a.phone) out.push("Phone: " + a.phone);
  return out.filter(Boolean);
}
