// user create|list|remove: the people who sign in to the audience console (`audience serve`),
// in a users file of ours (console/users.h). `create` prints the one-time password last.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/audience/commands.h"
#include "base/time.h"
#include "console/users.h"

namespace cf::cli {
namespace {

struct UserFlags {
  std::string users, email;
};

int Finish(const char* command, const Status& s) {
  if (!s.ok()) std::fprintf(stderr, "audience user %s: %s\n", command, s.message().c_str());
  return s.ok() ? 0 : 1;
}

}  // namespace

void AddUserCommand(CLI::App& app, int* exit_code) {
  CLI::App* user = app.add_subcommand("user", "The audience console's users (audience serve --users FILE)");
  user->require_subcommand(1);
  const char* users_help = "Users file of the audience console (created by the first `user create`)";

  auto create = std::make_shared<UserFlags>();
  CLI::App* c = user->add_subcommand("create", "Add a user; prints a one-time password on the last line");
  c->add_option("--users", create->users, users_help)->required();
  c->add_option("--email", create->email, "The user's email, their sign-in name")->required();
  AddCommonFlags(c);
  c->callback([create, exit_code] {
    auto password = console::CreateUser(create->users, create->email, SystemClock().NowSeconds());
    if (password.has_value()) {
      std::printf("created user %s in %s; their password (shown once, store it now):\n%s\n", create->email.c_str(),
                  create->users.c_str(), password->c_str());
    }
    *exit_code = Finish("create", password.has_value() ? Status::OK() : password.error());
  });

  auto list = std::make_shared<UserFlags>();
  CLI::App* l = user->add_subcommand("list", "Print the users: email and creation time");
  l->add_option("--users", list->users, users_help)->required();
  AddCommonFlags(l);
  l->callback([list, exit_code] {
    auto users = console::ReadUsers(list->users);
    if (users.has_value()) {
      for (const console::ConsoleUser& u : *users) {
        std::printf("%s\t%s\n", u.email.c_str(), FormatIsoTime(u.created_at).c_str());
      }
      if (users->empty())
        std::printf("(no users: add one with 'audience user create --users %s --email E')\n", list->users.c_str());
    }
    *exit_code = Finish("list", users.has_value() ? Status::OK() : users.error());
  });

  auto remove = std::make_shared<UserFlags>();
  CLI::App* r = user->add_subcommand("remove", "Remove a user; their sessions end at their next request");
  r->add_option("--users", remove->users, users_help)->required();
  r->add_option("--email", remove->email, "The user to remove")->required();
  AddCommonFlags(r);
  r->callback([remove, exit_code] {
    const Status s = console::RemoveUser(remove->users, remove->email);
    if (s.ok()) std::printf("removed user %s from %s\n", remove->email.c_str(), remove->users.c_str());
    *exit_code = Finish("remove", s);
  });
}

}  // namespace cf::cli
