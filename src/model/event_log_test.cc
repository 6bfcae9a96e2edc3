#include "model/event_log.h"

#include <gtest/gtest.h>

namespace cf::model {
namespace {

EventLog ThreeCustomers() {
  OwnedEvents o;
  o.num_customers = 3;
  o.num_products = 2;
  // customer 0: t = 10, 20, 30; customer 1: none; customer 2: t = 5, 40
  o.customer = {0, 0, 0, 2, 2};
  o.time = {10, 20, 30, 5, 40};
  o.product = {0, 1, 0, 1, 1};
  o.revenue = {1, 2, 3, 4, 5};
  return EventLog::FromOwned(std::move(o));
}

TEST(HistoryViewTest, ShowsOnlyEventsStrictlyBeforeTheCutoff) {
  const EventLog log = ThreeCustomers();
  const HistoryView view(log, 30);
  EXPECT_EQ(view.Customer(0).size(), 2u);  // the event at t = 30 is the cutoff itself: hidden
  EXPECT_EQ(view.Customer(0).time.back(), 20);
  EXPECT_FALSE(view.HasHistory(1));
  EXPECT_EQ(view.Customer(2).size(), 1u);
  EXPECT_EQ(view.first_time(), 5);
}

TEST(HistoryViewTest, EarlierViewsAndWindowsNeverReachPastTheCutoff) {
  const EventLog log = ThreeCustomers();
  const HistoryView view(log, 30);
  const HistoryView later = view.Before(1000);  // clamped: cannot widen what a view shows
  EXPECT_EQ(later.cutoff(), 30);
  EXPECT_EQ(later.Customer(2).size(), 1u);
  const HistoryView earlier = view.Before(15);
  EXPECT_EQ(earlier.Customer(0).size(), 1u);
  // A label window [15, 100) seen from the view at 30 stops at 30.
  const CustomerEvents window = view.Window(0, 15, 100);
  ASSERT_EQ(window.size(), 1u);
  EXPECT_EQ(window.time[0], 20);
  EXPECT_EQ(view.Window(2, 15, 100).size(), 0u);
}

}  // namespace
}  // namespace cf::model
