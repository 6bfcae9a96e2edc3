// The generator's world: the catalog (categories, brands, products with prices), the stores and
// the season table, built once from the world's own random stream.
#include <algorithm>
#include <cstdio>
#include <numbers>
#include <string>
#include <utility>

#include "base/time.h"
#include "data/generator_internal.h"

namespace cf::data::generator_internal {
namespace {

// The categories a catalog draws from: real-looking retail categories with their buying cycles.
// clang-format off
constexpr CategorySpec kCategories[] = {
    {"GROCERY", "SOFT DRINKS", true, 10, 2.5, 190, 0.3},
    {"GROCERY", "COFFEE", true, 21, 6.5, 0, 0},
    {"GROCERY", "TEA", true, 30, 4, 20, 0.2},
    {"GROCERY", "BREAKFAST CEREAL", true, 14, 3.8, 0, 0},
    {"GROCERY", "PASTA", true, 18, 1.6, 0, 0},
    {"GROCERY", "RICE", true, 30, 2.5, 0, 0},
    {"GROCERY", "CANNED SOUP", true, 21, 2, 15, 0.35},
    {"GROCERY", "SNACKS", true, 9, 2.8, 0, 0},
    {"GROCERY", "CHOCOLATE", true, 12, 3, 350, 0.3},
    {"GROCERY", "CONDIMENTS", true, 40, 3.2, 0, 0},
    {"GROCERY", "BAKING", true, 45, 3, 355, 0.4},
    {"GROCERY", "JUICE", true, 10, 3, 0, 0},
    {"PRODUCE", "FRUIT", true, 6, 3, 0, 0},
    {"PRODUCE", "VEGETABLES", true, 6, 2.5, 0, 0},
    {"PRODUCE", "SALADS", true, 7, 2.8, 200, 0.35},
    {"PRODUCE", "POTATOES", true, 12, 3.5, 0, 0},
    {"PRODUCE", "HERBS", true, 20, 1.8, 0, 0},
    {"PRODUCE", "BERRIES", true, 8, 4, 180, 0.5},
    {"DAIRY", "MILK", true, 5, 1.4, 0, 0},
    {"DAIRY", "CHEESE", true, 10, 4.5, 0, 0},
    {"DAIRY", "YOGURT", true, 7, 3.2, 0, 0},
    {"DAIRY", "BUTTER", true, 18, 3, 0, 0},
    {"DAIRY", "EGGS", true, 9, 3.3, 0, 0},
    {"DAIRY", "CREAM", true, 21, 2.2, 0, 0},
    {"MEAT & SEAFOOD", "BEEF", true, 14, 9, 0, 0},
    {"MEAT & SEAFOOD", "POULTRY", true, 9, 7, 0, 0},
    {"MEAT & SEAFOOD", "PORK", true, 18, 7.5, 0, 0},
    {"MEAT & SEAFOOD", "SAUSAGES", true, 14, 4.5, 200, 0.4},
    {"MEAT & SEAFOOD", "FISH", true, 16, 11, 0, 0},
    {"MEAT & SEAFOOD", "DELI MEATS", true, 8, 4, 0, 0},
    {"BAKERY", "BREAD", true, 4, 2.2, 0, 0},
    {"BAKERY", "PASTRIES", true, 10, 3.5, 0, 0},
    {"BAKERY", "CAKES", true, 30, 12, 355, 0.3},
    {"FROZEN", "FROZEN PIZZA", true, 14, 4.5, 0, 0},
    {"FROZEN", "ICE CREAM", true, 14, 5, 200, 0.6},
    {"FROZEN", "FROZEN VEGETABLES", true, 21, 2.5, 0, 0},
    {"FROZEN", "FROZEN MEALS", true, 10, 4, 0, 0},
    {"BEER, WINE & SPIRITS", "BEER", true, 10, 9, 190, 0.35},
    {"BEER, WINE & SPIRITS", "WINE", true, 14, 11, 355, 0.3},
    {"BEER, WINE & SPIRITS", "SPIRITS", true, 45, 22, 355, 0.4},
    {"BEER, WINE & SPIRITS", "SPARKLING WINE", true, 90, 18, 360, 0.8},
    {"HEALTH & BEAUTY", "SHAMPOO", true, 35, 5, 0, 0},
    {"HEALTH & BEAUTY", "TOOTHPASTE", true, 40, 3.2, 0, 0},
    {"HEALTH & BEAUTY", "SKIN CARE", true, 45, 14, 0, 0},
    {"HEALTH & BEAUTY", "COSMETICS", true, 60, 16, 350, 0.25},
    {"HEALTH & BEAUTY", "VITAMINS", true, 45, 12, 15, 0.3},
    {"HEALTH & BEAUTY", "SUNSCREEN", true, 60, 11, 180, 0.8},
    {"HEALTH & BEAUTY", "DEODORANT", true, 35, 4, 0, 0},
    {"HEALTH & BEAUTY", "RAZORS", true, 45, 10, 0, 0},
    {"HOUSEHOLD", "LAUNDRY DETERGENT", true, 30, 9, 0, 0},
    {"HOUSEHOLD", "PAPER TOWELS", true, 21, 6, 0, 0},
    {"HOUSEHOLD", "TOILET PAPER", true, 18, 7, 0, 0},
    {"HOUSEHOLD", "DISH SOAP", true, 35, 3, 0, 0},
    {"HOUSEHOLD", "CLEANING SUPPLIES", true, 45, 5, 100, 0.2},
    {"HOUSEHOLD", "TRASH BAGS", true, 40, 5, 0, 0},
    {"BABY", "DIAPERS", true, 10, 14, 0, 0},
    {"BABY", "BABY FOOD", true, 7, 1.8, 0, 0},
    {"BABY", "BABY WIPES", true, 14, 4, 0, 0},
    {"BABY", "BABY CARE", true, 45, 7, 0, 0},
    {"PET", "DOG FOOD", true, 21, 19, 0, 0},
    {"PET", "CAT FOOD", true, 14, 12, 0, 0},
    {"PET", "CAT LITTER", true, 21, 9, 0, 0},
    {"PET", "PET TREATS", true, 21, 5, 350, 0.2},
    {"PET", "PET ACCESSORIES", false, 120, 15, 0, 0},
    {"ELECTRONICS", "TELEVISIONS", false, 720, 450, 330, 0.5},
    {"ELECTRONICS", "HEADPHONES", false, 365, 60, 350, 0.5},
    {"ELECTRONICS", "PHONE ACCESSORIES", false, 120, 22, 0, 0},
    {"ELECTRONICS", "SMALL APPLIANCES", false, 365, 55, 350, 0.4},
    {"ELECTRONICS", "BATTERIES", true, 60, 8, 350, 0.3},
    {"ELECTRONICS", "VIDEO GAMES", false, 90, 50, 350, 0.7},
    {"ELECTRONICS", "LAPTOPS", false, 900, 700, 240, 0.3},
    {"HOME & KITCHEN", "KITCHENWARE", false, 180, 25, 0, 0},
    {"HOME & KITCHEN", "BEDDING", false, 365, 45, 0, 0},
    {"HOME & KITCHEN", "DECOR", false, 180, 30, 350, 0.3},
    {"HOME & KITCHEN", "STORAGE", false, 180, 18, 0, 0},
    {"HOME & KITCHEN", "LIGHTING", false, 365, 35, 0, 0},
    {"HOME & KITCHEN", "GARDEN", false, 60, 20, 120, 0.8},
    {"HOME & KITCHEN", "BARBECUE", false, 365, 120, 160, 0.9},
    {"APPAREL", "SHOES", false, 120, 65, 0, 0},
    {"APPAREL", "WOMENS CLOTHING", false, 45, 35, 0, 0},
    {"APPAREL", "MENS CLOTHING", false, 60, 38, 0, 0},
    {"APPAREL", "KIDS CLOTHING", false, 60, 22, 240, 0.5},
    {"APPAREL", "SOCKS & UNDERWEAR", false, 90, 12, 0, 0},
    {"APPAREL", "COATS", false, 365, 95, 320, 0.8},
    {"APPAREL", "SWIMWEAR", false, 365, 30, 170, 1.0},
    {"SPORTS & OUTDOORS", "FITNESS", false, 180, 35, 10, 0.6},
    {"SPORTS & OUTDOORS", "CYCLING", false, 365, 80, 130, 0.5},
    {"SPORTS & OUTDOORS", "CAMPING", false, 365, 60, 170, 0.7},
    {"SPORTS & OUTDOORS", "RUNNING", false, 120, 70, 100, 0.3},
    {"TOYS & GAMES", "TOYS", false, 90, 25, 350, 1.0},
    {"TOYS & GAMES", "BOARD GAMES", false, 180, 30, 350, 0.9},
    {"TOYS & GAMES", "PUZZLES", false, 180, 15, 350, 0.6},
    {"STATIONERY", "SCHOOL SUPPLIES", true, 90, 6, 240, 1.0},
    {"STATIONERY", "GREETING CARDS", true, 45, 4, 350, 0.5},
    {"STATIONERY", "BOOKS", false, 45, 15, 350, 0.3},
};
// clang-format on
constexpr uint32_t kCategoryCount = std::size(kCategories);
constexpr const char* kBrandSyllables[] = {"ka",  "lo",  "mi",  "ra",  "ve",  "to",  "su",  "ne",  "bri", "dor",
                                           "fal", "gen", "hal", "jun", "kor", "lum", "mar", "nov", "or",  "pel",
                                           "qui", "ros", "sol", "tav", "ul",  "vin", "wex", "yor", "zen", "ax"};
constexpr const char* kBrandSuffixes[] = {"", "", "", "", " Co", " & Sons", " Select", " Naturals", " Labs"};

std::vector<double> Cumulative(const std::vector<double>& w) {
  std::vector<double> cum(w.size());
  double total = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    total += w[i];
    cum[i] = total;
  }
  return cum;
}

// Zipf weights 1/(rank+1)^s over a random order, so the popular item is not always the first.
std::vector<double> ShuffledZipf(size_t n, double s, Rng& rng) {
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) {
    w[i] = Exp(-s * Log(static_cast<double>(i + 1)));
  }
  for (size_t i = n; i > 1; --i) {
    std::swap(w[i - 1], w[rng.Below(i)]);
  }
  return w;
}

std::string BrandName(Rng& rng) {
  const uint64_t syllables = 2 + rng.Below(2);
  std::string name;
  for (uint64_t i = 0; i < syllables; ++i) {
    name += kBrandSyllables[rng.Below(std::size(kBrandSyllables))];
  }
  name[0] = static_cast<char>(name[0] - 'a' + 'A');
  name += kBrandSuffixes[rng.Below(std::size(kBrandSuffixes))];
  return name;
}

// Shelf prices: cents below 5, .99 endings below 100, 9.99 endings above.
int64_t ShelfPriceCents(double price) {
  if (price < 5) {
    return std::max<int64_t>(19, std::llround(price * 100));
  }
  if (price < 100) {
    return static_cast<int64_t>(std::floor(price)) * 100 + 99;
  }
  return static_cast<int64_t>(std::floor(price / 10)) * 1000 + 999;
}

double Yearly(const CategorySpec& spec, int64_t day) {
  if (spec.amplitude == 0) {
    return 1;
  }
  const CivilDate date = CivilFromDays(day);
  const double doy = static_cast<double>(day - DaysFromCivil(date.year, 1, 1));
  return 1 + spec.amplitude * Cos(2 * std::numbers::pi * (doy - spec.peak_day) / 365.25);
}

}  // namespace

float SeasonOf(const CategorySpec& spec, int64_t day) {
  const int64_t dow = ((day % 7) + 7 + 3) % 7;  // 1970-01-01 was a Thursday
  return static_cast<float>(kWeekly[static_cast<size_t>(dow)] * Yearly(spec, day));
}

World BuildWorld(const GeneratorOptions& options, int64_t start_day, Rng& rng) {
  World w;
  // Categories: a seed-dependent subset of the table, one per ~15 products.
  const uint32_t category_count =
      std::clamp<uint32_t>(options.products / kProductsPerCategory, 1, std::min(kCategoryCount, options.products));
  std::vector<uint32_t> order(kCategoryCount);
  for (uint32_t i = 0; i < kCategoryCount; ++i) {
    order[i] = i;
  }
  for (uint32_t i = kCategoryCount; i > 1; --i) {
    std::swap(order[i - 1], order[rng.Below(i)]);
  }
  order.resize(category_count);
  std::sort(order.begin(), order.end());  // table order keeps departments together

  std::vector<std::array<double, kLatentDim>> department_latent;
  const std::vector<double> popularity = ShuffledZipf(category_count, kCategoryZipf, rng);
  for (uint32_t k = 0; k < category_count; ++k) {
    const CategorySpec& spec = kCategories[order[k]];
    if (w.departments.empty() || w.departments.back() != spec.department) {
      w.departments.emplace_back(spec.department);
      std::array<double, kLatentDim> d;
      for (double& x : d) {
        x = rng.Normal();
      }
      department_latent.push_back(d);
    }
    Category c;
    c.spec = &spec;
    c.department = static_cast<uint32_t>(w.departments.size() - 1);
    c.popularity = popularity[k];
    const double noise = std::sqrt(1 - kDepartmentCoherence * kDepartmentCoherence);
    for (int j = 0; j < kLatentDim; ++j) {
      c.latent[j] = kDepartmentCoherence * department_latent.back()[j] + noise * rng.Normal();
    }
    w.categories.push_back(std::move(c));
  }

  // Products: split over categories (unevenly), brands shared within a department.
  std::vector<double> category_size(category_count);
  for (double& s : category_size) {
    s = 0.5 + rng.Uniform();
  }
  const std::vector<double> size_cum = Cumulative(category_size);
  std::vector<uint32_t> per_category(category_count, 1);
  for (uint32_t p = category_count; p < options.products; ++p) {
    ++per_category[PickCumulative(size_cum, rng.Uniform())];
  }
  std::vector<std::vector<uint32_t>> department_brands(w.departments.size());
  std::vector<uint32_t> department_products(w.departments.size(), 0);
  for (uint32_t k = 0; k < category_count; ++k) {
    department_products[w.categories[k].department] += per_category[k];
  }
  for (uint32_t d = 0; d < w.departments.size(); ++d) {
    const uint32_t n = std::clamp<uint32_t>(department_products[d] / 6, 2, 40);
    const std::vector<double> brand_pop = ShuffledZipf(n, kBrandZipf, rng);
    for (uint32_t b = 0; b < n; ++b) {
      Brand brand;
      brand.name = BrandName(rng);
      for (const uint32_t other : department_brands[d]) {
        if (w.brands[other].name == brand.name) {
          brand.name += " " + std::to_string(b + 1);
          break;
        }
      }
      brand.department = d;
      brand.popularity = brand_pop[b];
      brand.log_popularity = Log(brand.popularity);
      brand.premium = Exp(kBrandPremiumSigma * rng.Normal());
      for (double& x : brand.latent) {
        x = rng.Normal();
      }
      department_brands[d].push_back(static_cast<uint32_t>(w.brands.size()));
      w.brands.push_back(std::move(brand));
    }
  }
  for (uint32_t k = 0; k < category_count; ++k) {
    Category& c = w.categories[k];
    const std::vector<uint32_t>& brands = department_brands[c.department];
    std::vector<double> brand_pop;
    for (uint32_t b : brands) {
      brand_pop.push_back(w.brands[b].popularity);
    }
    const std::vector<double> brand_cum = Cumulative(brand_pop);
    const std::vector<double> product_pop = ShuffledZipf(per_category[k], kProductZipf, rng);
    for (uint32_t j = 0; j < per_category[k]; ++j) {
      const uint32_t brand = brands[PickCumulative(brand_cum, rng.Uniform())];
      const double price = c.spec->price_median * w.brands[brand].premium * Exp(kPriceSigma * rng.Normal());
      const uint32_t index = static_cast<uint32_t>(w.products.size());
      w.products.push_back(Product{k, brand, ShelfPriceCents(price)});
      c.products.push_back(index);
      auto it = std::find(c.brands.begin(), c.brands.end(), brand);
      if (it == c.brands.end()) {
        c.brands.push_back(brand);
        c.brand_products.emplace_back();
        it = c.brands.end() - 1;
      }
      c.brand_products[static_cast<size_t>(it - c.brands.begin())].push_back(index);
    }
    c.product_cum = Cumulative(product_pop);
    for (const auto& list : c.brand_products) {
      std::vector<double> pop;
      for (uint32_t p : list) {
        pop.push_back(product_pop[p - c.products.front()]);
      }
      c.brand_product_cum.push_back(Cumulative(pop));
    }
  }

  // Stores: about one per 2,000 customers, spread over regions by population.
  const uint64_t store_count = std::clamp<uint64_t>(options.customers / kCustomersPerStore, std::size(kRegions), 2000);
  for (uint32_t r = 0; r < std::size(kRegions); ++r) {
    const uint64_t n = std::max<uint64_t>(1, std::llround(static_cast<double>(store_count) * kRegionWeights[r]));
    const std::vector<double> pop = ShuffledZipf(n, kStoreZipf, rng);
    for (uint64_t s = 0; s < n; ++s) {
      char id[16];
      std::snprintf(id, sizeof id, "S%04zu", w.stores.size() + 1);
      w.region_stores[r].push_back(static_cast<uint32_t>(w.stores.size()));
      w.stores.push_back(Store{id, r});
    }
    w.region_store_cum[r] = Cumulative(pop);
  }

  // Truth categories: the most popular ones, most popular first.
  std::vector<uint32_t> by_pop(category_count);
  for (uint32_t k = 0; k < category_count; ++k) {
    by_pop[k] = k;
  }
  std::stable_sort(by_pop.begin(), by_pop.end(),
                   [&](uint32_t a, uint32_t b) { return w.categories[a].popularity > w.categories[b].popularity; });
  by_pop.resize(std::min(category_count, options.truth_categories));
  w.truth_categories = by_pop;

  // Season table: weekly × yearly per category and day (all ones when independent).
  w.first_day = start_day - kBurnInDays;
  w.day_count = kBurnInDays + options.days;
  w.season.assign(static_cast<size_t>(category_count * w.day_count), 1.0F);
  if (!options.independent) {
    for (uint32_t k = 0; k < category_count; ++k) {
      Category& c = w.categories[k];
      c.season_max = 0;
      for (int64_t i = 0; i < w.day_count; ++i) {
        const int64_t day = w.first_day + i;
        const float s = SeasonOf(*c.spec, day);
        w.season[k * w.day_count + i] = s;
        c.season_max = std::max(c.season_max, static_cast<double>(s));
      }
    }
  }
  std::vector<double> pop;
  for (const Category& c : w.categories) {
    pop.push_back(c.popularity);
  }
  w.category_cum = Cumulative(pop);
  return w;
}

}  // namespace cf::data::generator_internal
